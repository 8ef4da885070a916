import { useEffect, useState, useSyncExternalStore } from 'react';
import { api, ok } from './api/client';
import { OrgContext, loadOrgContext } from './org';
import { Link, navigate, usePath } from './router';
import { session } from './session';
import { ErrorText, useLoad } from './ui';
import { SignIn } from './pages/SignIn';
import { Profile } from './pages/Profile';
import { Organizations } from './pages/Organizations';
import { People } from './pages/People';
import { Groups } from './pages/Groups';
import { Roles } from './pages/Roles';
import { Projects } from './pages/Projects';
import { AuditLogs } from './pages/AuditLogs';

/** The organization pages: path, title, the permission that shows the page, the page. */
const ORG_PAGES = [
  { path: 'people', title: 'People', needs: 'organization.people.view', Page: People },
  { path: 'groups', title: 'Groups', needs: 'organization.groups.view', Page: Groups },
  { path: 'projects', title: 'Projects', needs: 'organization.view', Page: Projects },
  { path: 'settings/roles', title: 'Settings → Roles', needs: 'organization.custom_roles.view', Page: Roles },
  { path: 'audit-logs', title: 'Audit logs', needs: 'organization.audit_logs.view', Page: AuditLogs },
] as const;

export function App() {
  const current = useSyncExternalStore(session.subscribe, session.get);
  const path = usePath();
  useEffect(() => {
    if (!current && path !== '/sign-in') navigate(`/sign-in${path === '/' ? '' : `?next=${encodeURIComponent(path)}`}`, true);
  }, [current, path]);
  useEffect(() => {
    if (current && path === '/sign-in') navigate(new URLSearchParams(window.location.search).get('next') ?? '/', true);
  }, [current, path]);
  if (!current || path === '/sign-in') return <SignIn />;
  return <Shell path={path} />;
}

function Shell({ path }: { path: string }) {
  const user = session.get()!.user;
  const orgs = useLoad(() => ok(api.GET('/api/v1/organizations', { params: { query: { limit: 500 } } })), [path === '/organizations' ? path : '']);
  const parts = path.split('/');
  const orgRef = parts[1] === 'o' && parts[2] ? decodeURIComponent(parts[2]) : undefined;

  useEffect(() => {
    if (path !== '/' || !orgs.data) return;
    const first = orgs.data.items[0];
    navigate(first ? `/o/${first.slug}` : '/organizations', true);
  }, [path, orgs.data]);

  const signOut = async () => {
    const s = session.get();
    if (s?.kind === 'session') await ok(api.POST('/api/v1/auth/logout')).catch(() => undefined);
    session.set(undefined);
    navigate('/sign-in');
  };

  return (
    <div className="layout">
      <header className="top">
        <Link to="/" className="brand">
          People platform
        </Link>
        {orgs.data && orgs.data.items.length > 0 && (
          <div className="switcher">
            <label htmlFor="org-switcher">Organization</label>
            <select id="org-switcher" value={orgRef ?? ''} onChange={(e) => e.target.value && navigate(`/o/${e.target.value}`)}>
              {!orgRef && <option value="">Choose…</option>}
              {orgs.data.items.map((o) => (
                <option key={o.id} value={o.slug}>
                  {o.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <nav aria-label="Account" className="account">
          <Link to="/organizations">Organizations</Link>
          <Link to="/profile">Profile settings</Link>
          <span className="who">{user.username}</span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </nav>
      </header>
      {orgRef ? (
        <OrgPages orgRef={orgRef} path={path} />
      ) : (
        <main>
          {path === '/profile' ? <Profile /> : path === '/organizations' ? <Organizations orgs={orgs.data?.items ?? []} reload={orgs.reload} /> : <NotFound />}
        </main>
      )}
    </div>
  );
}

function OrgPages({ orgRef, path }: { orgRef: string; path: string }) {
  const userId = session.get()!.user.id;
  const [tick, setTick] = useState(0);
  const ctx = useLoad(() => loadOrgContext(orgRef, userId), [orgRef, userId, tick]);
  const sub = path.split('/').slice(3).join('/');
  const page = ORG_PAGES.find((p) => p.path === sub);
  if (ctx.error) {
    return (
      <main>
        <h1>Organization</h1>
        <ErrorText error={ctx.error} />
      </main>
    );
  }
  if (!ctx.data) return <main aria-busy="true">Loading…</main>;
  const { org, permissions } = ctx.data;
  const visible = ORG_PAGES.filter((p) => permissions.has(p.needs));
  // `/o/:org`: the first page the viewer may see
  if (!sub && visible[0]) return <Redirect to={`/o/${org.slug}/${visible[0].path}`} />;
  const value = { org, permissions, can: (p: string) => permissions.has(p), reloadPermissions: () => setTick((t) => t + 1) };
  return (
    <OrgContext.Provider value={value}>
      <div className="org">
        <nav aria-label="Organization" className="side">
          <p className="org-name">{org.name}</p>
          <ul>
            {visible.map((p) => (
              <li key={p.path}>
                <Link to={`/o/${org.slug}/${p.path}`} aria-current={p === page ? 'page' : undefined}>
                  {p.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main>
          {page && permissions.has(page.needs) ? (
            <page.Page key={org.id} />
          ) : page ? (
            <>
              <h1>{page.title}</h1>
              <p role="alert" className="error">
                You do not have the permission {page.needs} in {org.name}.
              </p>
            </>
          ) : (
            <NotFound />
          )}
        </main>
      </div>
    </OrgContext.Provider>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the start</Link>
      </p>
    </>
  );
}
