import type { BuiltInRoleKey } from '../ids';

/**
 * The permission catalogue of RBAC.md: 38 organization and 31 project permissions. The scope of a permission
 * is the prefix before the first dot. Route decorators of the gateway name these.
 */
export type PermissionScope = 'organization' | 'project';

export interface PermissionDefinition {
  name: string;
  scope: PermissionScope;
  description: string;
}

const ORGANIZATION: Array<[string, string]> = [
  ['organization.view', 'See the organization and be listed as one of its members'],
  ['organization.delete', 'Delete the organization'],
  ['organization.change_owner', 'Give or take away the Owner role'],
  ['organization.contact_support', 'Contact support on behalf of the organization'],
  ['organization.activity_monitor.view', 'See the activity monitor (running jobs and queues)'],
  ['organization.projects.create', 'Create projects in the organization'],
  ['organization.audit_logs.view', 'Read and export the audit log'],
  ['organization.audit_logs.manage', 'Configure audit log streaming and retention'],
  ['organization.people.view', 'See the people of the organization and their roles and permissions'],
  ['organization.people.invite', 'Add existing users to the organization'],
  ['organization.people.manage', 'Create accounts, remove people, reset passwords and change the roles of people and groups'],
  ['organization.groups.view', 'See groups and their members'],
  ['organization.groups.manage', 'Create, edit and delete groups'],
  ['organization.custom_roles.view', 'See the roles of the organization and their permissions'],
  ['organization.custom_roles.manage', 'Create, edit and delete custom roles'],
  ['organization.general_settings.view', 'See the general settings of the organization'],
  ['organization.general_settings.manage', 'Change the general settings of the organization'],
  ['organization.secrets.view', 'See organization secrets (names, not values)'],
  ['organization.secrets.manage', 'Create, edit and delete organization secrets'],
  ['organization.secrets_policy_settings.view', 'See the secrets policy settings'],
  ['organization.secrets_policy_settings.manage', 'Change the secrets policy settings'],
  ['organization.self_hosted_agents.view', 'See self-hosted agent types and agents'],
  ['organization.self_hosted_agents.manage', 'Register, change and remove self-hosted agents'],
  ['organization.ip_allow_list.view', 'See the IP allow list'],
  ['organization.ip_allow_list.manage', 'Change the IP allow list'],
  ['organization.notifications.view', 'See notification rules'],
  ['organization.notifications.manage', 'Create, edit and delete notification rules'],
  ['organization.pre_flight_checks.view', 'See organization pre-flight checks'],
  ['organization.pre_flight_checks.manage', 'Change organization pre-flight checks'],
  ['organization.plans_and_billing.view', 'See the plan, usage and invoices'],
  ['organization.plans_and_billing.manage', 'Change the plan and billing details'],
  ['organization.dashboards.view', 'See dashboards'],
  ['organization.dashboards.manage', 'Create, edit and delete dashboards'],
  ['organization.okta.view', 'See the Okta (SSO/SCIM) integration'],
  ['organization.okta.manage', 'Set up and change the Okta (SSO/SCIM) integration'],
  ['organization.service_accounts.view', 'See service accounts'],
  ['organization.service_accounts.manage', 'Create, change and delete service accounts'],
  ['organization.instance_git_integration.manage', 'Set up the instance-wide git provider integration'],
];

const PROJECT: Array<[string, string]> = [
  ['project.view', 'See the project, its workflows and jobs'],
  ['project.delete', 'Delete the project'],
  ['project.access.view', 'See who has access to the project and with which role'],
  ['project.access.manage', 'Give and take project roles, transfer project ownership'],
  ['project.secrets.view', 'See project secrets (names, not values)'],
  ['project.secrets.manage', 'Create, edit and delete project secrets'],
  ['project.notifications.view', 'See project notification rules'],
  ['project.notifications.manage', 'Change project notification rules'],
  ['project.insights.view', 'See project insights (metrics)'],
  ['project.insights.manage', 'Configure project insights'],
  ['project.flaky_tests.view', 'See flaky tests'],
  ['project.flaky_tests.manage', 'Manage flaky test filters and labels'],
  ['project.artifacts.view', 'See and download artifacts'],
  ['project.artifacts.delete', 'Delete artifacts'],
  ['project.artifacts.view_settings', 'See artifact retention settings'],
  ['project.artifacts.modify_settings', 'Change artifact retention settings'],
  ['project.scheduler.view', 'See scheduled tasks'],
  ['project.scheduler.manage', 'Create, edit and delete scheduled tasks'],
  ['project.scheduler.run_manually', 'Run a scheduled task by hand'],
  ['project.general_settings.view', 'See the general settings of the project'],
  ['project.general_settings.manage', 'Change the general settings of the project'],
  ['project.repository_info.view', 'See the repository the project builds'],
  ['project.repository_info.manage', 'Change the repository the project builds'],
  ['project.deployment_targets.view', 'See deployment targets'],
  ['project.deployment_targets.manage', 'Create, edit and delete deployment targets'],
  ['project.pre_flight_checks.view', 'See project pre-flight checks'],
  ['project.pre_flight_checks.manage', 'Change project pre-flight checks'],
  ['project.workflow.manage', 'Edit workflows and start them'],
  ['project.job.rerun', 'Rerun jobs'],
  ['project.job.stop', 'Stop running jobs'],
  ['project.job.attach', 'Attach to a running job (debug session)'],
];

export const PERMISSIONS: readonly PermissionDefinition[] = [
  ...ORGANIZATION.map(([name, description]) => ({ name, scope: 'organization' as const, description })),
  ...PROJECT.map(([name, description]) => ({ name, scope: 'project' as const, description })),
];

const byName = new Map(PERMISSIONS.map((p) => [p.name, p]));

export const ORGANIZATION_PERMISSIONS: readonly string[] = ORGANIZATION.map(([n]) => n);
export const PROJECT_PERMISSIONS: readonly string[] = PROJECT.map(([n]) => n);

export const isPermission = (name: string): boolean => byName.has(name);
export const permissionScope = (name: string): PermissionScope | undefined => byName.get(name)?.scope;

export interface BuiltInRoleDefinition {
  key: BuiltInRoleKey;
  name: string;
  description: string;
  scope: PermissionScope;
  permissions: readonly string[];
  /** organization roles that give this project role in every project of the organization */
  projectRoleEverywhere?: BuiltInRoleKey;
}

const allBut = (all: readonly string[], except: string[]) => all.filter((p) => !except.includes(p));

/** The built-in roles of RBAC.md, exactly; every organization has one read-only copy of each. */
export const BUILT_IN_ROLES: readonly BuiltInRoleDefinition[] = [
  {
    key: 'owner',
    name: 'Owner',
    description: 'Full control of the organization; project Admin in every project',
    scope: 'organization',
    permissions: ORGANIZATION_PERMISSIONS,
    projectRoleEverywhere: 'project-admin',
  },
  {
    key: 'admin',
    name: 'Admin',
    description: 'Manages the organization except ownership, deletion, custom roles and the instance git integration; project Admin in every project',
    scope: 'organization',
    permissions: allBut(ORGANIZATION_PERMISSIONS, [
      'organization.delete',
      'organization.change_owner',
      'organization.custom_roles.manage',
      'organization.instance_git_integration.manage',
    ]),
    projectRoleEverywhere: 'project-admin',
  },
  {
    key: 'member',
    name: 'Member',
    description: 'Works in the organization; sees only the projects they are given a role in',
    scope: 'organization',
    permissions: [
      'organization.view',
      'organization.contact_support',
      'organization.activity_monitor.view',
      'organization.projects.create',
      'organization.secrets_policy_settings.view',
      'organization.self_hosted_agents.view',
      'organization.self_hosted_agents.manage',
      'organization.groups.view',
      'organization.secrets.view',
      'organization.secrets.manage',
      'organization.notifications.view',
      'organization.notifications.manage',
      'organization.dashboards.view',
      'organization.dashboards.manage',
    ],
  },
  {
    key: 'project-admin',
    name: 'Admin',
    description: 'Full control of the project',
    scope: 'project',
    permissions: PROJECT_PERMISSIONS,
  },
  {
    key: 'project-contributor',
    name: 'Contributor',
    description: 'Works on the project; cannot manage access or deployment targets',
    scope: 'project',
    permissions: allBut(PROJECT_PERMISSIONS, ['project.access.manage', 'project.deployment_targets.manage']),
  },
  {
    key: 'project-reader',
    name: 'Reader',
    description: 'Reads the project',
    scope: 'project',
    permissions: [
      'project.view',
      'project.access.view',
      'project.notifications.view',
      'project.insights.view',
      'project.flaky_tests.view',
      'project.artifacts.view',
      'project.scheduler.view',
      'project.general_settings.view',
      'project.repository_info.view',
      'project.deployment_targets.view',
      'project.pre_flight_checks.view',
    ],
  },
];
