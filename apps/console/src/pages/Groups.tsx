import { useCallback, useState, type FormEvent } from 'react';
import { api, ok, type Schemas } from '../api/client';
import { MemberPicker } from '../components';
import { loadPeople, loadRoles, personLabel, useOrg } from '../org';
import { ConfirmDelete, Dialog, ErrorText, Field, LoadMore, useAction, useLoad, usePaged } from '../ui';
import { ChangeRole } from './People';

type Group = Schemas['GroupResponse'];

/** Groups: create (name, description, members; a new group has the Member role), Modify group, Modify Role, delete. */
export function Groups() {
  const { org, can } = useOrg();
  const fetchPage = useCallback(
    (cursor?: string) => ok(api.GET('/api/v1/organizations/{org}/groups', { params: { path: { org: org.id }, query: { limit: 50, cursor } } })),
    [org.id],
  );
  const groups = usePaged(fetchPage, [fetchPage]);
  const users = useLoad(() => (can('organization.people.view') ? loadPeople(org.id, { type: 'user', limit: 500 }) : Promise.resolve([])), [org.id]);
  const names = Object.fromEntries((users.data ?? []).map((u) => [u.id, personLabel(u)]));
  const roles = useLoad(() => loadRoles(org.id, 'organization', can('organization.custom_roles.view')), [org.id]);
  const [editing, setEditing] = useState<{ kind: 'new' | 'modify' | 'role' | 'delete'; group?: Group }>();
  const manage = can('organization.groups.manage');
  const close = () => {
    setEditing(undefined);
    groups.reload();
  };

  return (
    <>
      <div className="page-head">
        <h1>Groups</h1>
        {manage && (
          <button type="button" onClick={() => setEditing({ kind: 'new' })}>
            Create group
          </button>
        )}
      </div>
      <ErrorText error={groups.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Description</th>
            <th scope="col">Members</th>
            <th scope="col">Role</th>
            {(manage || can('organization.people.manage')) && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {groups.items.map((g) => (
            <tr key={g.id} data-group={g.name}>
              <td>
                <strong>{g.name}</strong>
              </td>
              <td>{g.description}</td>
              <td>{g.memberIds.map((id) => names[id] ?? id).join(', ') || '—'}</td>
              <td>{g.role.name}</td>
              {(manage || can('organization.people.manage')) && (
                <td>
                  <div className="row-actions">
                    {manage && (
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => setEditing({ kind: 'modify', group: g })}
                        aria-label={`Modify group ${g.name}`}
                      >
                        Modify group
                      </button>
                    )}
                    {can('organization.people.manage') && (
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => setEditing({ kind: 'role', group: g })}
                        aria-label={`Modify Role of ${g.name}`}
                      >
                        Modify Role
                      </button>
                    )}
                    {manage && (
                      <button type="button" className="danger" onClick={() => setEditing({ kind: 'delete', group: g })} aria-label={`Delete group ${g.name}`}>
                        Delete
                      </button>
                    )}
                  </div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {!groups.loading && groups.items.length === 0 && !groups.error && <p>No groups yet.</p>}
      {groups.hasMore && <LoadMore onMore={groups.loadMore} loading={groups.loading} />}
      {editing?.kind === 'new' && <GroupForm onClose={close} names={names} />}
      {editing?.kind === 'modify' && editing.group && <GroupForm group={editing.group} onClose={close} names={names} />}
      {editing?.kind === 'role' && editing.group && <ChangeRole subject={{ type: 'group', ...editing.group }} roles={roles.data ?? []} onClose={close} />}
      {editing?.kind === 'delete' && editing.group && <DeleteGroup group={editing.group} onClose={close} />}
    </>
  );
}

function GroupForm({ group, onClose, names }: { group?: Group; onClose: () => void; names: Record<string, string> }) {
  const { org } = useOrg();
  const [name, setName] = useState(group?.name ?? '');
  const [description, setDescription] = useState(group?.description ?? '');
  const [members, setMembers] = useState<string[]>(group?.memberIds ?? []);
  const save = useAction(async (e: FormEvent) => {
    e.preventDefault();
    if (!group) {
      await ok(api.POST('/api/v1/organizations/{org}/groups', { params: { path: { org: org.id } }, body: { name, description, memberIds: members } }));
    } else {
      const addMemberIds = members.filter((id) => !group.memberIds.includes(id));
      const removeMemberIds = group.memberIds.filter((id) => !members.includes(id));
      const body = {
        ...(name !== group.name ? { name } : {}),
        ...(description !== group.description ? { description } : {}),
        ...(addMemberIds.length ? { addMemberIds } : {}),
        ...(removeMemberIds.length ? { removeMemberIds } : {}),
      };
      if (Object.keys(body).length)
        await ok(api.PATCH('/api/v1/organizations/{org}/groups/{groupId}', { params: { path: { org: org.id, groupId: group.id } }, body }));
    }
    onClose();
  });
  return (
    <Dialog title={group ? `Modify group ${group.name}` : 'Create group'} onClose={onClose} wide>
      <form onSubmit={save.run}>
        <Field label="Group name">{(id) => <input id={id} required value={name} onChange={(e) => setName(e.target.value)} />}</Field>
        <Field label="Description">{(id) => <textarea id={id} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
        <MemberPicker value={members} onChange={setMembers} known={names} />
        <div className="actions">
          <button type="submit" disabled={save.pending}>
            {group ? 'Save changes' : 'Create group'}
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

function DeleteGroup({ group, onClose }: { group: Group; onClose: () => void }) {
  const { org } = useOrg();
  return (
    <ConfirmDelete
      what="group"
      name={group.name}
      remove={() => ok(api.DELETE('/api/v1/organizations/{org}/groups/{groupId}', { params: { path: { org: org.id, groupId: group.id } } }))}
      onClose={onClose}
    >
      <p>Its members lose what the group gave them and keep only what they hold otherwise.</p>
    </ConfirmDelete>
  );
}
