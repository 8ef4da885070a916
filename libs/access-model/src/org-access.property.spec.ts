import fc from 'fast-check';
import { BUILT_IN_ROLES, PERMISSIONS, builtInRoleId } from '@app/contracts';
import { orgHistory } from '@app/testing';

/**
 * The fold and its checks against a naive evaluation for random organizations: the naive side keeps a flat list
 * of bindings `(subject, target, role)` and group memberships and evaluates a check by scanning all of them. Also
 * random: custom roles deleted while bound (an organization binding to a missing role counts as Member, a
 * project one grants nothing), the bindings restated by `organization.bindings-imported` (nothing changes), and
 * legacy binding events of authorization after it (ignored).
 */
const uuid = (kind: number, i: number) => `00000000-0000-4000-8${kind}00-${String(i).padStart(12, '0')}`;
const ORG_PERMS = PERMISSIONS.filter((p) => p.scope === 'organization').map((p) => p.name);
const PROJECT_PERMS = PERMISSIONS.filter((p) => p.scope === 'project').map((p) => p.name);

const op = fc.oneof(
  fc.record({ k: fc.constant('join' as const), user: fc.nat(11), group: fc.nat(4) }),
  fc.record({ k: fc.constant('leave' as const), user: fc.nat(11), group: fc.nat(4) }),
  // custom organization roles (6, 7) often, so that bindings to roles deleted later are common
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('bind' as const),
      subject: fc.nat(16),
      project: fc.option(fc.nat(3), { nil: null }),
      role: fc.oneof(fc.nat(9), fc.integer({ min: 6, max: 7 })),
    }),
  },
  fc.record({ k: fc.constant('unbind' as const), subject: fc.nat(16), project: fc.nat(3) }),
  fc.record({ k: fc.constant('remove-user' as const), user: fc.nat(11) }),
  fc.record({ k: fc.constant('delete-group' as const), group: fc.nat(4) }),
  fc.record({ k: fc.constant('delete-project' as const), project: fc.nat(3) }),
  fc.record({ k: fc.constant('edit-role' as const), role: fc.nat(3), perms: fc.array(fc.nat(68), { maxLength: 20 }) }),
  fc.record({ k: fc.constant('delete-role' as const), role: fc.nat(3) }),
  fc.record({ k: fc.constant('import' as const) }),
  fc.record({ k: fc.constant('legacy-bind' as const), subject: fc.nat(16), project: fc.option(fc.nat(3), { nil: null }), role: fc.nat(9) }),
);

describe('OrgAccess equals a naive evaluation from the bindings (fast-check)', () => {
  it('for random organizations, every permission of every user in the organization and in every project', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(68), { maxLength: 25 }), { minLength: 4, maxLength: 4 }), fc.array(op, { maxLength: 60 }), (rolePerms, ops) => {
        const orgId = uuid(9, 1);
        const h = orgHistory(orgId);
        const users = Array.from({ length: 12 }, (_, i) => uuid(1, i));
        const groups = Array.from({ length: 5 }, (_, i) => uuid(2, i));
        const projects = Array.from({ length: 4 }, (_, i) => uuid(3, i));
        const customRoles = rolePerms.map((_, i) => uuid(4, i));
        const roleScope = (i: number) => (i < 2 ? 'organization' : 'project');
        const permsOf = new Map<string, string[]>();
        for (const d of BUILT_IN_ROLES) permsOf.set(builtInRoleId(orgId, d.key), [...d.permissions]);
        const pick = (i: number, perms: number[]) => perms.map((n) => PERMISSIONS[n].name).filter((p) => p.startsWith(roleScope(i)));

        // naive state: sets and a flat list of bindings
        const members = new Set<string>();
        const liveGroups = new Set<string>();
        const liveProjects = new Set<string>();
        const inGroup: Array<[string, string]> = [];
        let bindings: Array<{ subject: string; project: string | null; role: string }> = [];
        let imported = false;
        const bind = (subject: string, project: string | null, role: string) => {
          bindings = bindings.filter((b) => !(b.subject === subject && b.project === project));
          bindings.push({ subject, project, role });
        };

        h.created(users[0]);
        members.add(users[0]);
        bind(users[0], null, h.role('owner'));
        for (const u of users.slice(1)) {
          h.memberAdded(u, 'member');
          members.add(u);
          bind(u, null, h.role('member'));
        }
        for (const g of groups) {
          h.groupCreated(g, []);
          liveGroups.add(g);
          bind(g, null, h.role('member'));
        }
        projects.forEach((p, i) => {
          h.projectCreated(p, users[i + 1]);
          liveProjects.add(p);
          bind(users[i + 1], p, h.role('project-admin'));
        });
        customRoles.forEach((r, i) => {
          const perms = pick(i, rolePerms[i]);
          h.roleCreated(r, roleScope(i), perms);
          permsOf.set(r, perms);
        });
        const allRoles = [...BUILT_IN_ROLES.map((d) => builtInRoleId(orgId, d.key)), ...customRoles];
        const scopeOfRole = (r: string) =>
          customRoles.includes(r) ? roleScope(customRoles.indexOf(r)) : BUILT_IN_ROLES.find((d) => builtInRoleId(orgId, d.key) === r)!.scope;

        for (const o of ops) {
          if (
            o.k === 'join' &&
            members.has(users[o.user]) &&
            liveGroups.has(groups[o.group]) &&
            !inGroup.some(([u, g]) => u === users[o.user] && g === groups[o.group])
          ) {
            h.groupMemberAdded(groups[o.group], users[o.user]);
            inGroup.push([users[o.user], groups[o.group]]);
          } else if (o.k === 'leave' && inGroup.some(([u, g]) => u === users[o.user] && g === groups[o.group])) {
            h.groupMemberRemoved(groups[o.group], users[o.user]);
            inGroup.splice(
              inGroup.findIndex(([u, g]) => u === users[o.user] && g === groups[o.group]),
              1,
            );
          } else if (o.k === 'bind' || o.k === 'legacy-bind') {
            const isUser = o.subject < 12;
            const subject = isUser ? users[o.subject] : groups[o.subject - 12];
            const project = o.project === null ? null : projects[o.project];
            const role = allRoles[o.role];
            if (!(isUser ? members.has(subject) : liveGroups.has(subject))) continue;
            if (project && !liveProjects.has(project)) continue;
            if (scopeOfRole(role) !== (project ? 'project' : 'organization')) continue;
            if (o.k === 'legacy-bind') {
              h.legacyAssigned(isUser ? 'user' : 'group', subject, role, project);
              if (imported) continue; // the import is the truth from then on
            } else h.assigned(isUser ? 'user' : 'group', subject, role, project);
            bind(subject, project, role);
          } else if (o.k === 'unbind') {
            const isUser = o.subject < 12;
            const subject = isUser ? users[o.subject] : groups[o.subject - 12];
            const b = bindings.find((x) => x.subject === subject && x.project === projects[o.project]);
            if (!b) continue;
            h.unassigned(isUser ? 'user' : 'group', subject, projects[o.project], b.role);
            bindings = bindings.filter((x) => x !== b);
          } else if (o.k === 'remove-user' && o.user > 0 && members.has(users[o.user])) {
            const u = users[o.user];
            h.memberRemoved(
              u,
              inGroup.filter(([x]) => x === u).map(([, g]) => g),
            );
            members.delete(u);
            bindings = bindings.filter((b) => b.subject !== u);
            for (let i = inGroup.length - 1; i >= 0; i--) if (inGroup[i][0] === u) inGroup.splice(i, 1);
          } else if (o.k === 'delete-group' && liveGroups.has(groups[o.group])) {
            const g = groups[o.group];
            h.groupDeleted(g);
            liveGroups.delete(g);
            bindings = bindings.filter((b) => b.subject !== g);
            for (let i = inGroup.length - 1; i >= 0; i--) if (inGroup[i][1] === g) inGroup.splice(i, 1);
          } else if (o.k === 'delete-project' && liveProjects.has(projects[o.project])) {
            const p = projects[o.project];
            h.projectDeleted(p);
            liveProjects.delete(p);
            bindings = bindings.filter((b) => b.project !== p);
          } else if (o.k === 'delete-role' && permsOf.has(customRoles[o.role])) {
            h.roleDeleted(customRoles[o.role], roleScope(o.role));
            permsOf.delete(customRoles[o.role]);
          } else if (o.k === 'import') {
            const subjects = [
              ...users.filter((u) => members.has(u)).map((u) => ['user', u] as const),
              ...groups.filter((g) => liveGroups.has(g)).map((g) => ['group', g] as const),
            ];
            h.bindingsImported(
              subjects.map(([subjectType, subjectId]) => ({
                subjectType,
                subjectId,
                roleId: bindings.find((b) => b.subject === subjectId && b.project === null)?.role ?? null,
                projectRoles: bindings.filter((b) => b.subject === subjectId && b.project !== null).map((b) => ({ projectId: b.project!, roleId: b.role })),
              })),
            );
            imported = true;
          } else if (o.k === 'edit-role' && permsOf.has(customRoles[o.role])) {
            const perms = pick(o.role, o.perms);
            h.roleChanged(customRoles[o.role], roleScope(o.role), perms);
            permsOf.set(customRoles[o.role], perms);
          }
        }

        const naive = (user: string, project: string | null, permission: string): boolean => {
          if (!members.has(user) || (project !== null && !liveProjects.has(project))) return false; // a project not in the organization: 404 semantics
          const subjects = new Set([user, ...inGroup.filter(([u]) => u === user).map(([, g]) => g)]);
          // a binding to a role that no longer exists: Member at organization scope, nothing in a project
          const permsOfBinding = (b: { project: string | null; role: string }) =>
            permsOf.get(b.role) ?? (b.project === null ? permsOf.get(h.role('member'))! : []);
          return bindings.some((b) => {
            if (!subjects.has(b.subject)) return false;
            if (permission.startsWith('organization.')) return b.project === null && permsOfBinding(b).includes(permission);
            if (!project || !liveProjects.has(project)) return false;
            if (b.project === project) return permsOfBinding(b).includes(permission);
            const gives = b.project === null && (b.role === h.role('owner') || b.role === h.role('admin'));
            return gives && permsOf.get(h.role('project-admin'))!.includes(permission);
          });
        };

        const index = h.index();
        for (const u of users)
          for (const p of [null, ...projects]) {
            const { member, allowed } = index.check(u, p, [...ORG_PERMS, ...PROJECT_PERMS]);
            expect(member).toBe(members.has(u) && (p === null || liveProjects.has(p)));
            for (const perm of [...ORG_PERMS, ...PROJECT_PERMS])
              if (allowed[perm] !== naive(u, p, perm)) throw new Error(`${u} ${p} ${perm}: index ${allowed[perm]}`);
          }
      }),
      { numRuns: 150 },
    );
  });
});
