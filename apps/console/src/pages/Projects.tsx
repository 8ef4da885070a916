import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ok, type Schemas } from '../api/client';
import { loadPeople, loadRoles, personLabel, useOrg } from '../org';
import { ConfirmDelete, Dialog, ErrorText, Field, LoadMore, useAction, useLoad, usePaged } from '../ui';
import { TransferOwnership } from './People';

type Project = Schemas['ProjectResponse'];

/** Projects: list, create, owner and transfer of ownership, members and their project roles. */
export function Projects() {
  const { org, can } = useOrg();
  const fetchPage = useCallback(
    (cursor?: string) => ok(api.GET('/api/v1/organizations/{org}/projects', { params: { path: { org: org.id }, query: { limit: 50, cursor } } })),
    [org.id],
  );
  const projects = usePaged(fetchPage, [fetchPage]);
  const people = useLoad(() => (can('organization.people.view') ? loadPeople(org.id, { limit: 500 }) : Promise.resolve([])), [org.id]);
  const names = Object.fromEntries((people.data ?? []).map((p) => [p.id, personLabel(p)]));
  const [name, setName] = useState('');
  const [open, setOpen] = useState<{ kind: 'members' | 'transfer' | 'delete'; project: Project; manage?: boolean }>();
  const highlighted = new URLSearchParams(window.location.search).get('project');
  useEffect(() => {
    if (highlighted) document.getElementById(`project-${highlighted}`)?.scrollIntoView();
  }, [highlighted, projects.items.length]);
  const create = useAction(async (e: FormEvent) => {
    e.preventDefault();
    await ok(api.POST('/api/v1/organizations/{org}/projects', { params: { path: { org: org.id } }, body: { name } }));
    setName('');
    projects.reload();
  });
  const close = () => {
    setOpen(undefined);
    projects.reload();
  };
  return (
    <>
      <h1>Projects</h1>
      {can('organization.projects.create') && (
        <form className="inline" onSubmit={create.run}>
          <Field label="New project name">{(id) => <input id={id} required value={name} onChange={(e) => setName(e.target.value)} />}</Field>
          <button type="submit" disabled={create.pending}>
            Create project
          </button>
          <ErrorText error={create.error} />
        </form>
      )}
      <ErrorText error={projects.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Project</th>
            <th scope="col">Owner</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {projects.items.map((p) => (
            <ProjectRow
              key={p.id}
              project={p}
              owner={names[p.ownerId] ?? p.ownerId}
              highlighted={p.id === highlighted}
              onOpen={(kind, manage) => setOpen({ kind, project: p, manage })}
            />
          ))}
        </tbody>
      </table>
      {!projects.loading && projects.items.length === 0 && !projects.error && <p>No projects you can see.</p>}
      {projects.hasMore && <LoadMore onMore={projects.loadMore} loading={projects.loading} />}
      {open?.kind === 'members' && <ProjectMembers project={open.project} manage={Boolean(open.manage)} onClose={close} />}
      {open?.kind === 'transfer' && (
        <Dialog title={`Transfer ownership of ${open.project.name}`} onClose={close}>
          <p>Owner now: {names[open.project.ownerId] ?? open.project.ownerId}</p>
          <TransferOwnership project={open.project} exclude={open.project.ownerId} onDone={() => undefined} />
        </Dialog>
      )}
      {open?.kind === 'delete' && <DeleteProject project={open.project} onClose={close} />}
    </>
  );
}

const PROJECT_ACTIONS = ['project.access.view', 'project.access.manage', 'project.delete'];

/** A project and the actions the viewer may take on it (their permissions in that project, asked once per row). */
function ProjectRow({
  project: p,
  owner,
  highlighted,
  onOpen,
}: {
  project: Project;
  owner: string;
  highlighted: boolean;
  onOpen: (kind: 'members' | 'transfer' | 'delete', manage: boolean) => void;
}) {
  const { org } = useOrg();
  const allowed = useLoad(
    () =>
      ok(
        api.POST('/api/v1/organizations/{org}/permissions/check', {
          params: { path: { org: org.id } },
          body: { projectId: p.id, permissions: PROJECT_ACTIONS },
        }),
      ).then((r) => r.allowed),
    [org.id, p.id],
  ).data;
  return (
    <tr id={`project-${p.id}`} data-project={p.name} className={highlighted ? 'highlight' : undefined}>
      <td>
        <strong>{p.name}</strong>
      </td>
      <td>{owner}</td>
      <td>
        <div className="row-actions">
          {allowed?.['project.access.view'] && (
            <button
              type="button"
              className="secondary"
              onClick={() => onOpen('members', Boolean(allowed['project.access.manage']))}
              aria-label={`Members of ${p.name}`}
            >
              Members
            </button>
          )}
          {allowed?.['project.access.manage'] && (
            <button type="button" className="secondary" onClick={() => onOpen('transfer', true)} aria-label={`Transfer ownership of ${p.name}`}>
              Transfer ownership
            </button>
          )}
          {allowed?.['project.delete'] && (
            <button
              type="button"
              className="danger"
              onClick={() => onOpen('delete', Boolean(allowed['project.access.manage']))}
              aria-label={`Delete project ${p.name}`}
            >
              Delete
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}

function ProjectMembers({ project, manage, onClose }: { project: Project; manage: boolean; onClose: () => void }) {
  const { org, can } = useOrg();
  const members = useLoad(
    () => ok(api.GET('/api/v1/organizations/{org}/projects/{projectId}/members', { params: { path: { org: org.id, projectId: project.id } } })),
    [org.id, project.id],
  );
  const roles = useLoad(() => loadRoles(org.id, 'project', can('organization.custom_roles.view')), [org.id]);
  const candidates = useLoad(() => (can('organization.people.view') ? loadPeople(org.id, { limit: 500 }) : Promise.resolve([])), [org.id]);
  const [subject, setSubject] = useState('');
  const [chosenRole, setRoleId] = useState('');
  const roleId = chosenRole || (roles.data?.find((r) => r.name === 'Contributor')?.id ?? '');
  const assign = useAction(async (e: FormEvent) => {
    e.preventDefault();
    const who = candidates.data?.find((c) => c.id === subject);
    if (!who) throw new Error('Choose a person or a group.');
    await ok(
      api.PUT('/api/v1/organizations/{org}/projects/{projectId}/members/{subjectId}/role', {
        params: { path: { org: org.id, projectId: project.id, subjectId: who.id } },
        body: { roleId, subjectType: who.type === 'group' ? 'group' : 'user' },
      }),
    );
    members.reload();
  });
  const remove = useAction(async (subjectId: string) => {
    await ok(
      api.DELETE('/api/v1/organizations/{org}/projects/{projectId}/members/{subjectId}', {
        params: { path: { org: org.id, projectId: project.id, subjectId } },
      }),
    );
    members.reload();
  });
  return (
    <Dialog title={`Members of ${project.name}`} onClose={onClose} wide>
      <ErrorText error={members.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Project roles</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(members.data?.items ?? []).map((m) => (
            <tr key={m.id} data-member={m.username ?? m.name}>
              <td>
                {m.username ?? m.name} <span className="muted">({m.type})</span>
              </td>
              <td>{m.roles.map((r) => `${r.name} (${r.source === 'organization' ? 'from the organization role' : 'project'})`).join(', ')}</td>
              <td>
                {manage && m.roles.some((r) => r.source === 'project') && (
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => remove.run(m.id)}
                    aria-label={`Remove ${m.username ?? m.name} from ${project.name}`}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorText error={remove.error} />
      {manage && (
        <>
          <h3>Give a project role</h3>
          <form className="inline" onSubmit={assign.run}>
            <Field label="Person or group">
              {(id) => (
                <select id={id} value={subject} onChange={(e) => setSubject(e.target.value)} required>
                  <option value="">Choose…</option>
                  {(candidates.data ?? []).map((c) => (
                    <option key={c.id} value={c.id}>
                      {personLabel(c)}
                      {c.type === 'group' ? ' (group)' : ''}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Project role">
              {(id) => (
                <select id={id} value={roleId} onChange={(e) => setRoleId(e.target.value)}>
                  {(roles.data ?? []).map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit" disabled={assign.pending}>
              Save changes
            </button>
          </form>
          <ErrorText error={assign.error} />
        </>
      )}
    </Dialog>
  );
}

function DeleteProject({ project, onClose }: { project: Project; onClose: () => void }) {
  const { org } = useOrg();
  return (
    <ConfirmDelete
      what="project"
      name={project.name}
      remove={() => ok(api.DELETE('/api/v1/organizations/{org}/projects/{projectId}', { params: { path: { org: org.id, projectId: project.id } } }))}
      onClose={onClose}
    />
  );
}
