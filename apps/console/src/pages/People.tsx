import { memo, useCallback, useState, type FormEvent } from 'react';
import { ApiError, api, ok, type Schemas } from '../api/client';
import { grantable, loadRoles, useOrg, type Role } from '../org';
import { Link } from '../router';
import { Dialog, ErrorText, Field, LoadMore, ShownOnce, useAction, useDebounced, useLoad, usePaged } from '../ui';

type Person = Schemas['PersonResponse'];

/** Service accounts (a newer API) are listed too, with Change Role only. */
const TYPE_LABEL: Record<string, string> = { user: 'User', group: 'Group', service_account: 'Service account' };

/** One list of the organization's users and groups, with their roles (and where each comes from) and groups. */
export function People() {
  const { org, can, permissions } = useOrg();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim());
  const fetchPage = useCallback(
    (cursor?: string) =>
      ok(
        api.GET('/api/v1/organizations/{org}/people', { params: { path: { org: org.id }, query: { limit: 50, cursor, ...(query ? { search: query } : {}) } } }),
      ),
    [org.id, query],
  );
  const people = usePaged(fetchPage, [fetchPage]);
  const roles = useLoad(() => loadRoles(org.id, 'organization', can('organization.custom_roles.view')), [org.id]);
  const [adding, setAdding] = useState(false);
  const [acting, setActing] = useState<Acting>();
  const manage = can('organization.people.manage');

  return (
    <>
      <div className="page-head">
        <h1>People</h1>
        {(can('organization.people.invite') || manage) && (
          <button type="button" onClick={() => setAdding(true)}>
            Add people
          </button>
        )}
      </div>
      <div className="toolbar">
        <Field label="Search people">
          {(id) => <input id={id} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name, username or email" />}
        </Field>
      </div>
      <ErrorText error={people.error} />
      <table className="people">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Roles</th>
            <th scope="col">Groups</th>
            {manage && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {people.items.map((p) => (
            <PersonRow key={p.id} person={p} manage={manage} onAct={setActing} />
          ))}
        </tbody>
      </table>
      {!people.loading && people.items.length === 0 && !people.error && <p>No one matches.</p>}
      {people.hasMore ? <LoadMore onMore={people.loadMore} loading={people.loading} auto /> : people.loading && <p aria-busy="true">Loading…</p>}
      {adding && (
        <AddPeople
          roles={grantable(roles.data ?? [], permissions)}
          onClose={() => {
            setAdding(false);
            people.reload();
          }}
        />
      )}
      {acting?.kind === 'role' && <ChangeRole subject={acting.person} roles={roles.data ?? []} onClose={() => (setActing(undefined), people.reload())} />}
      {acting?.kind === 'password' && <ResetPassword person={acting.person} onClose={() => setActing(undefined)} />}
      {acting?.kind === 'remove' && <RemovePerson person={acting.person} onClose={() => (setActing(undefined), people.reload())} />}
    </>
  );
}

type Acting = { kind: 'role' | 'remove' | 'password'; person: Person };

/**
 * One person's row. Memoized (`person` is the same object until its page is fetched again): typing in the
 * search box and appending a page render only the new rows, not every row already listed.
 */
const PersonRow = memo(function PersonRow({ person: p, manage, onAct }: { person: Person; manage: boolean; onAct: (acting: Acting) => void }) {
  return (
    <tr data-person={p.username ?? p.name}>
      <td>
        <strong>{p.name || p.username}</strong>
        {p.username && <div className="muted">@{p.username}</div>}
        {p.email && <div className="muted">{p.email}</div>}
      </td>
      <td>{TYPE_LABEL[p.type] ?? p.type}</td>
      <td>
        <ul className="plain">
          {p.roles.map((r) => (
            <li key={`${r.id}-${r.source}`}>
              {r.name}{' '}
              <span className="muted">({r.source === 'group' ? `from ${(r.groups ?? []).map((g) => g.name).join(', ') || 'a group'}` : 'direct'})</span>
            </li>
          ))}
        </ul>
      </td>
      <td>{p.groups.map((g) => g.name).join(', ') || '—'}</td>
      {manage && (
        <td>
          <div className="row-actions">
            <button
              type="button"
              className="secondary"
              onClick={() => onAct({ kind: 'role', person: p })}
              aria-label={`Change Role of ${p.username ?? p.name}`}
            >
              Change Role
            </button>
            {p.type === 'user' && (
              <>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => onAct({ kind: 'password', person: p })}
                  aria-label={`Reset password of ${p.username}`}
                >
                  Reset password
                </button>
                <button type="button" className="danger" onClick={() => onAct({ kind: 'remove', person: p })} aria-label={`Remove ${p.username}`}>
                  Remove
                </button>
              </>
            )}
          </div>
        </td>
      )}
    </tr>
  );
});

function RoleSelect({ roles, value, onChange, label = 'Role' }: { roles: Role[]; value: string; onChange: (id: string) => void; label?: string }) {
  return (
    <Field label={label}>
      {(id) => (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          {roles.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
              {r.builtIn ? '' : ' (custom)'}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Change Role of a user or a group: only the roles the viewer may give are offered; the API still decides. */
export function ChangeRole({
  subject,
  roles,
  onClose,
}: {
  subject: { type: string; id: string; name: string; username?: string };
  roles: Role[];
  onClose: () => void;
}) {
  const { org, permissions } = useOrg();
  const offered = grantable(roles, permissions);
  const [roleId, setRoleId] = useState(offered.find((r) => r.name === 'Member')?.id ?? offered[0]?.id ?? '');
  const change = useAction(async (e: FormEvent) => {
    e.preventDefault();
    if (subject.type === 'group')
      await ok(api.PUT('/api/v1/organizations/{org}/groups/{groupId}/role', { params: { path: { org: org.id, groupId: subject.id } }, body: { roleId } }));
    else await ok(api.PUT('/api/v1/organizations/{org}/people/{userId}/role', { params: { path: { org: org.id, userId: subject.id } }, body: { roleId } }));
    onClose();
  });
  const title = subject.type === 'group' ? `Modify Role of ${subject.name}` : `Change Role of ${subject.username ?? subject.name}`;
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={change.run}>
        {offered.length === 0 ? <p>There is no role you may give.</p> : <RoleSelect roles={offered} value={roleId} onChange={setRoleId} />}
        <div className="actions">
          <button type="submit" disabled={change.pending || !roleId}>
            Save changes
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
        <ErrorText error={change.error} />
      </form>
    </Dialog>
  );
}

function AddPeople({ roles, onClose }: { roles: Role[]; onClose: () => void }) {
  const { can } = useOrg();
  const [tab, setTab] = useState<'invite' | 'create'>(can('organization.people.invite') ? 'invite' : 'create');
  const tabs = [
    { key: 'invite' as const, label: 'Invite existing users', allowed: can('organization.people.invite') },
    { key: 'create' as const, label: 'Create accounts', allowed: can('organization.people.manage') },
  ].filter((t) => t.allowed);
  return (
    <Dialog title="Add people" onClose={onClose} wide>
      <div role="tablist" aria-label="How to add people" className="tabs">
        {tabs.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            id={`tab-${t.key}`}
            aria-selected={tab === t.key}
            aria-controls={`panel-${t.key}`}
            tabIndex={tab === t.key ? 0 : -1}
            onClick={() => setTab(t.key)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                const next = tabs[(tabs.findIndex((x) => x.key === tab) + 1) % tabs.length];
                setTab(next.key);
                document.getElementById(`tab-${next.key}`)?.focus();
              }
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'invite' ? <InviteUsers roles={roles} /> : <CreateAccounts roles={roles} />}
      </div>
    </Dialog>
  );
}

const defaultRole = (roles: Role[]) => roles.find((r) => r.name === 'Member' && r.builtIn)?.id ?? roles[0]?.id ?? '';

function InviteUsers({ roles }: { roles: Role[] }) {
  const { org } = useOrg();
  const [handles, setHandles] = useState('');
  const [roleId, setRoleId] = useState(defaultRole(roles));
  const [result, setResult] = useState<Schemas['AddPeopleResponse']>();
  const invite = useAction(async (e: FormEvent) => {
    e.preventDefault();
    const list = handles.split(/[\s,]+/).filter(Boolean);
    if (list.length === 0) throw new Error('Type at least one username or email.');
    setResult(
      await ok(api.POST('/api/v1/organizations/{org}/people', { params: { path: { org: org.id } }, body: { handles: list, ...(roleId ? { roleId } : {}) } })),
    );
  });
  return (
    <form onSubmit={invite.run}>
      <Field label="Usernames or emails" hint="Several at once, separated by commas, spaces or new lines. Usernames are case-sensitive.">
        {(id) => <textarea id={id} rows={3} value={handles} onChange={(e) => setHandles(e.target.value)} />}
      </Field>
      {roles.length > 0 && <RoleSelect roles={roles} value={roleId} onChange={setRoleId} />}
      <button type="submit" disabled={invite.pending}>
        Invite
      </button>
      <ErrorText error={invite.error} />
      {result && (
        <div role="status" className="result">
          <p>Added: {result.added.length ? result.added.map((a) => a.username).join(', ') : 'no one'}.</p>
          {result.notFound.length > 0 && (
            <div className="error">
              <p>Not found (check the exact spelling and case):</p>
              <ul aria-label="Handles not found">
                {result.notFound.map((h) => (
                  <li key={h}>{h}</li>
                ))}
              </ul>
            </div>
          )}
          {result.alreadyMembers.length > 0 && <p>Already members: {result.alreadyMembers.join(', ')}.</p>}
        </div>
      )}
    </form>
  );
}

function CreateAccounts({ roles }: { roles: Role[] }) {
  const { org } = useOrg();
  const [rows, setRows] = useState([{ email: '', username: '' }]);
  const [roleId, setRoleId] = useState(defaultRole(roles));
  const [result, setResult] = useState<Schemas['CreateAccountsResponse']>();
  const create = useAction(async (e: FormEvent) => {
    e.preventDefault();
    const accounts = rows.filter((r) => r.email.trim()).map((r) => ({ email: r.email.trim(), ...(r.username.trim() ? { username: r.username.trim() } : {}) }));
    if (accounts.length === 0) throw new Error('Type at least one email.');
    setResult(
      await ok(api.POST('/api/v1/organizations/{org}/accounts', { params: { path: { org: org.id } }, body: { accounts, ...(roleId ? { roleId } : {}) } })),
    );
  });
  if (result)
    return (
      <div role="status" className="result">
        <p>
          <strong>Temporary passwords are shown only once.</strong> Give each person theirs; they choose their own password when they first sign in.
        </p>
        <table>
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Email</th>
              <th scope="col">Temporary password</th>
            </tr>
          </thead>
          <tbody>
            {result.created.map((c) => (
              <tr key={c.userId ?? c.id} data-account={c.email}>
                <td>{c.username}</td>
                <td>{c.email}</td>
                <td>
                  <ShownOnce label={`Temporary password of ${c.username}`} value={c.temporaryPassword ?? ''} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {result.existing.length > 0 && <p>Already had an account (added as members, no password): {result.existing.map((x) => x.email).join(', ')}.</p>}
        <button type="button" className="secondary" onClick={() => (setResult(undefined), setRows([{ email: '', username: '' }]))}>
          Create more accounts
        </button>
      </div>
    );
  return (
    <form onSubmit={create.run}>
      {rows.map((row, i) => (
        <fieldset key={i} className="account-row">
          <legend>Account {i + 1}</legend>
          <Field label={`Email of account ${i + 1}`}>
            {(id) => (
              <input id={id} type="email" value={row.email} onChange={(e) => setRows(rows.map((r, j) => (j === i ? { ...r, email: e.target.value } : r)))} />
            )}
          </Field>
          <Field label={`Username of account ${i + 1} (optional)`}>
            {(id) => <input id={id} value={row.username} onChange={(e) => setRows(rows.map((r, j) => (j === i ? { ...r, username: e.target.value } : r)))} />}
          </Field>
        </fieldset>
      ))}
      <button type="button" className="secondary" onClick={() => setRows([...rows, { email: '', username: '' }])}>
        Add another account
      </button>
      {roles.length > 0 && <RoleSelect roles={roles} value={roleId} onChange={setRoleId} />}
      <button type="submit" disabled={create.pending}>
        Create accounts
      </button>
      <ErrorText error={create.error} />
    </form>
  );
}

function ResetPassword({ person, onClose }: { person: Person; onClose: () => void }) {
  const { org } = useOrg();
  const [temporary, setTemporary] = useState<string>();
  const reset = useAction(async () => {
    const answer = await ok(api.POST('/api/v1/organizations/{org}/people/{userId}/password', { params: { path: { org: org.id, userId: person.id } } }));
    setTemporary(answer.temporaryPassword);
  });
  return (
    <Dialog title={`Reset password of ${person.username}`} onClose={onClose}>
      {temporary ? (
        <div role="status">
          <p>
            <strong>Shown only once.</strong> {person.username} must choose a new password at the next sign-in; their sessions have ended.
          </p>
          <ShownOnce label={`Temporary password of ${person.username}`} value={temporary} />
          <button type="button" onClick={onClose}>
            Done
          </button>
        </div>
      ) : (
        <>
          <p>This gives {person.username} a new temporary password and ends their sessions. Only accounts this organization created can be reset.</p>
          <div className="actions">
            <button type="button" onClick={() => reset.run()} disabled={reset.pending}>
              Reset password
            </button>
            <button type="button" className="secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
          <ErrorText error={reset.error} />
        </>
      )}
    </Dialog>
  );
}

function RemovePerson({ person, onClose }: { person: Person; onClose: () => void }) {
  const { org } = useOrg();
  const [owned, setOwned] = useState<Array<{ id: string; name: string }>>();
  const remove = useAction(async () => {
    try {
      await ok(api.DELETE('/api/v1/organizations/{org}/people/{userId}', { params: { path: { org: org.id, userId: person.id } } }));
      onClose();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'OWNS_PROJECTS') setOwned((err.problem.projects as Array<{ id: string; name: string }>) ?? []);
      throw err;
    }
  });
  return (
    <Dialog title={`Remove ${person.username}`} onClose={onClose}>
      <p>
        {person.username} leaves {org.name}: out of its groups, with every organization and project role taken away.
      </p>
      <div className="actions">
        <button type="button" className="danger" onClick={() => remove.run()} disabled={remove.pending}>
          Remove from organization
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
      <ErrorText error={remove.error} />
      {owned && owned.length > 0 && (
        <div>
          <p>Transfer the ownership of these projects first:</p>
          <ul>
            {owned.map((p) => (
              <li key={p.id}>
                <Link to={`/o/${org.slug}/projects?project=${p.id}`}>{p.name}</Link>{' '}
                <TransferOwnership project={p} exclude={person.id} onDone={() => remove.setError(undefined)} />
              </li>
            ))}
          </ul>
        </div>
      )}
    </Dialog>
  );
}

/** Transfer a project's ownership to another user of the organization (found by search). */
export function TransferOwnership({ project, exclude, onDone }: { project: { id: string; name: string }; exclude?: string; onDone: () => void }) {
  const { org } = useOrg();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim());
  const [userId, setUserId] = useState('');
  const [done, setDone] = useState(false);
  const candidates = useLoad(
    () =>
      ok(
        api.GET('/api/v1/organizations/{org}/people', {
          params: { path: { org: org.id }, query: { type: 'user', limit: 20, ...(query ? { search: query } : {}) } },
        }),
      ),
    [org.id, query],
  );
  const users = (candidates.data?.items ?? []).filter((u) => u.id !== exclude);
  const transfer = useAction(async (e: FormEvent) => {
    e.preventDefault();
    await ok(api.PUT('/api/v1/organizations/{org}/projects/{projectId}/owner', { params: { path: { org: org.id, projectId: project.id } }, body: { userId } }));
    setDone(true);
    onDone();
  });
  if (done) return <span className="ok">ownership transferred</span>;
  return (
    <form className="inline" onSubmit={transfer.run} aria-label={`Transfer ownership of ${project.name}`}>
      <Field label={`Find the new owner of ${project.name}`}>
        {(id) => <input id={id} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />}
      </Field>
      <Field label={`New owner of ${project.name}`}>
        {(id) => (
          <select id={id} value={userId} onChange={(e) => setUserId(e.target.value)} required>
            <option value="">Choose…</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.username}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" disabled={transfer.pending || !userId}>
        Transfer ownership
      </button>
      <ErrorText error={transfer.error} />
    </form>
  );
}
