import { useState, type FormEvent } from 'react';
import { api, ok, type Schemas } from '../api/client';
import { loadRoles, useOrg, type Role } from '../org';
import { ConfirmDelete, Dialog, ErrorText, Field, useAction, useLoad } from '../ui';

type Scope = 'organization' | 'project';
type Permission = Schemas['PermissionResponse'];

/** Settings → Roles: predefined and custom roles of both scopes; view a role's permissions; New Role, edit and delete custom ones. */
export function Roles() {
  const { org, can } = useOrg();
  const [scope, setScope] = useState<Scope>('organization');
  const roles = useLoad(() => loadRoles(org.id, scope, true), [org.id, scope]);
  const catalogue = useLoad(() => ok(api.GET('/api/v1/permissions', { params: { query: { scope } } })).then((p) => p.items), [scope]);
  const [open, setOpen] = useState<{ kind: 'view' | 'edit' | 'new' | 'delete'; role?: Role }>();
  const manage = can('organization.custom_roles.manage');
  const close = () => {
    setOpen(undefined);
    roles.reload();
  };
  const scopes: Array<{ key: Scope; label: string }> = [
    { key: 'organization', label: 'Organization roles' },
    { key: 'project', label: 'Project roles' },
  ];
  return (
    <>
      <div className="page-head">
        <h1>Roles</h1>
        {manage && (
          <button type="button" onClick={() => setOpen({ kind: 'new' })}>
            New Role
          </button>
        )}
      </div>
      <div role="tablist" aria-label="Scope" className="tabs">
        {scopes.map((s) => (
          <button
            key={s.key}
            type="button"
            role="tab"
            id={`scope-${s.key}`}
            aria-selected={scope === s.key}
            aria-controls="roles-panel"
            tabIndex={scope === s.key ? 0 : -1}
            onClick={() => setScope(s.key)}
            onKeyDown={(e) => {
              if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
              const next = scopes.find((x) => x.key !== scope)!;
              setScope(next.key);
              document.getElementById(`scope-${next.key}`)?.focus();
            }}
          >
            {s.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="roles-panel" aria-labelledby={`scope-${scope}`}>
        <ErrorText error={roles.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Description</th>
              <th scope="col">Kind</th>
              <th scope="col">Permissions</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(roles.data ?? []).map((r) => (
              <tr key={r.id} data-role={r.name}>
                <td>
                  <strong>{r.name}</strong>
                </td>
                <td>{r.description}</td>
                <td>{r.builtIn ? 'Predefined' : 'Custom'}</td>
                <td>{r.permissions.length}</td>
                <td>
                  <div className="row-actions">
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => setOpen({ kind: 'view', role: r })}
                      aria-label={`View permissions of ${r.name}`}
                      title="View permissions"
                    >
                      <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2">
                        <path d="M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z" />
                        <circle cx="12" cy="12" r="3" />
                      </svg>
                    </button>
                    {manage && !r.builtIn && (
                      <>
                        <button type="button" className="secondary" onClick={() => setOpen({ kind: 'edit', role: r })} aria-label={`Edit role ${r.name}`}>
                          Edit
                        </button>
                        <button type="button" className="danger" onClick={() => setOpen({ kind: 'delete', role: r })} aria-label={`Delete role ${r.name}`}>
                          Delete
                        </button>
                      </>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {open?.kind === 'view' && open.role && (
        <Dialog title={`Permissions of ${open.role.name}`} onClose={close} wide>
          {open.role.builtIn && <p className="muted">A predefined role: read-only.</p>}
          <PermissionList catalogue={catalogue.data ?? []} value={open.role.permissions} readOnly />
        </Dialog>
      )}
      {(open?.kind === 'new' || open?.kind === 'edit') && <RoleEditor role={open.role} scope={open.role?.scope ?? scope} onClose={close} />}
      {open?.kind === 'delete' && open.role && <DeleteRole role={open.role} onClose={close} />}
    </>
  );
}

/** The permissions of a scope as checkboxes, filtered by a search box (checked ones stay checked while hidden). */
function PermissionList({
  catalogue,
  value,
  onChange,
  readOnly,
}: {
  catalogue: Permission[];
  value: string[];
  onChange?: (v: string[]) => void;
  readOnly?: boolean;
}) {
  const [search, setSearch] = useState('');
  const q = search.trim().toLowerCase();
  const shown = catalogue.filter((p) => !q || p.name.toLowerCase().includes(q) || p.description.toLowerCase().includes(q));
  return (
    <>
      <Field label="Search permissions">{(id) => <input id={id} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />}</Field>
      <div className="perm-list" role="group" aria-label="Permissions" tabIndex={0}>
        {shown.map((p) => (
          <label key={p.name}>
            <input
              type="checkbox"
              checked={value.includes(p.name)}
              disabled={readOnly}
              onChange={(e) => onChange?.(e.target.checked ? [...value, p.name] : value.filter((n) => n !== p.name))}
            />
            <span>
              <code>{p.name}</code> <span className="muted">{p.description}</span>
            </span>
          </label>
        ))}
        {shown.length === 0 && <p className="muted">No permission matches.</p>}
      </div>
      <p className="muted">
        {value.length} of {catalogue.length} permissions
      </p>
    </>
  );
}

function RoleEditor({ role, scope: initialScope, onClose }: { role?: Role; scope: Scope; onClose: () => void }) {
  const { org } = useOrg();
  const [scope, setScope] = useState<Scope>(initialScope);
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? [`${initialScope}.view`]);
  const catalogue = useLoad(() => ok(api.GET('/api/v1/permissions', { params: { query: { scope } } })).then((p) => p.items), [scope]);
  const save = useAction(async (e: FormEvent) => {
    e.preventDefault();
    if (role)
      await ok(
        api.PATCH('/api/v1/organizations/{org}/roles/{roleId}', {
          params: { path: { org: org.id, roleId: role.id } },
          body: { name, description, permissions },
        }),
      );
    else await ok(api.POST('/api/v1/organizations/{org}/roles', { params: { path: { org: org.id } }, body: { name, description, scope, permissions } }));
    onClose();
  });
  return (
    <Dialog title={role ? `Edit role ${role.name}` : 'New Role'} onClose={onClose} wide>
      <form onSubmit={save.run}>
        <Field label="Role name">{(id) => <input id={id} required value={name} onChange={(e) => setName(e.target.value)} />}</Field>
        <Field label="Description">{(id) => <input id={id} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
        {!role && (
          <Field label="Scope">
            {(id) => (
              <select
                id={id}
                value={scope}
                onChange={(e) => {
                  const next = e.target.value as Scope;
                  setScope(next);
                  setPermissions([`${next}.view`]);
                }}
              >
                <option value="organization">Organization</option>
                <option value="project">Project</option>
              </select>
            )}
          </Field>
        )}
        <PermissionList catalogue={catalogue.data ?? []} value={permissions} onChange={setPermissions} />
        <div className="actions">
          <button type="submit" disabled={save.pending}>
            Save changes
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
        <ErrorText error={save.error} />
      </form>
    </Dialog>
  );
}

function DeleteRole({ role, onClose }: { role: Role; onClose: () => void }) {
  const { org } = useOrg();
  return (
    <ConfirmDelete
      what="role"
      name={role.name}
      remove={() => ok(api.DELETE('/api/v1/organizations/{org}/roles/{roleId}', { params: { path: { org: org.id, roleId: role.id } } }))}
      onClose={onClose}
    >
      <p>A role given to anyone cannot be deleted.</p>
    </ConfirmDelete>
  );
}
