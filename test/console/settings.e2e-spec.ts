import { readFileSync } from 'node:fs';
import request from 'supertest';
import type { BrowserContext, Page } from 'playwright-core';
import { BOOTSTRAP_TOKEN, eventually, startSystem, type RunningSystem } from '../support/system';
import { apiTrouble, ensureConsoleBuilt, launchBrowser, openConsole, pageProblems, screenshot, seriousViolations, signInWithToken } from './browser';

/**
 * The web console in a real browser: Profile settings (token reset), Organizations, Settings → Roles,
 * Projects with the removal of a project owner, Audit logs. Accounts other than the admin's are set up through
 * the API (what is under test here is the admin's clicking). docs/console.md.
 */
describe('web console: Profile, Organizations, Roles, Projects, Audit logs (browser)', () => {
  let system: RunningSystem;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let admin: Page;
  let adminToken = BOOTSTRAP_TOKEN;
  let orgId: string;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  /** A created account of Acme, signed in through the API: its session token. */
  async function account(email: string, roleId?: string): Promise<{ userId: string; token: string }> {
    const http = request(system.baseUrl);
    const created = await http
      .post(`/api/v1/organizations/${orgId}/accounts`)
      .set(bearer(adminToken))
      .send({ accounts: [{ email }], ...(roleId ? { roleId } : {}) })
      .expect(201);
    const { userId, temporaryPassword } = created.body.created[0];
    const newPassword = `${email}-own-password`;
    const session = await http.post('/api/v1/auth/password').send({ login: email, currentPassword: temporaryPassword, newPassword }).expect(200);
    return { userId, token: session.body.token };
  }

  beforeAll(async () => {
    ensureConsoleBuilt();
    system = await startSystem({ BOOTSTRAP_ORG_NAME: 'Acme' });
    ({ browser, close: closeBrowser } = await launchBrowser(system.baseUrl));
    admin = await openConsole(browser);
    orgId = (await request(system.baseUrl).get('/api/v1/organizations/acme').set(bearer(adminToken)).expect(200)).body.id;
  }, 120_000);
  afterAll(async () => {
    await closeBrowser?.();
    await system?.close();
  });
  afterEach(() => {
    const trouble = admin ? apiTrouble(admin) : [];
    if (trouble.length) console.log(`the tab's API calls that went wrong:\n${trouble.join('\n')}`);
    if (admin) expect(pageProblems(admin)).toEqual([]);
  });

  it('Profile settings: screen name, email with a confirmation, and Reset API Token shows the new token once while the old one stops working at once', async () => {
    await signInWithToken(admin, adminToken, '/profile');
    await admin.getByRole('heading', { name: 'Profile settings' }).waitFor();
    await admin.getByLabel('Screen name').fill('Ada Admin');
    await admin.getByRole('button', { name: 'Save changes' }).click();
    await admin.getByText('Saved.').waitFor();

    await admin.getByRole('textbox', { name: 'Email', exact: true }).fill('ada@example.com');
    await admin.getByRole('button', { name: 'Update email' }).click();
    const confirm = admin.getByRole('dialog', { name: 'Change your email?' });
    await confirm.getByText('may need reconnecting').waitFor();
    await confirm.getByRole('button', { name: 'Confirm email change' }).click();
    await admin.getByText('Your email is now ada@example.com.').waitFor();
    const me = await request(system.baseUrl).get('/api/v1/me').set(bearer(adminToken)).expect(200);
    expect(me.body).toMatchObject({ name: 'Ada Admin', email: 'ada@example.com' });

    await admin.getByRole('button', { name: 'Reset API Token' }).click();
    const reset = admin.getByRole('dialog', { name: 'Reset your API token?' });
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await reset.getByRole('button', { name: 'Reset API Token' }).click();
    const token = await admin.getByLabel('New API token', { exact: true }).inputValue();
    await admin.getByRole('button', { name: 'Copy New API token' }).waitFor();
    expect(token).not.toBe(adminToken);
    await request(system.baseUrl).get('/api/v1/me').set(bearer(adminToken)).expect(401);
    await request(system.baseUrl).get('/api/v1/me').set(bearer(token)).expect(200);
    adminToken = token;
    await screenshot(admin, 'profile');
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    // shown once: leaving the page and coming back shows no token
    await admin.getByRole('link', { name: 'Organizations' }).click();
    await admin.getByRole('link', { name: 'Profile settings' }).click();
    await admin.getByRole('button', { name: 'Reset API Token' }).waitFor();
    await expect(admin.getByLabel('New API token', { exact: true }).count()).resolves.toBe(0);
  });

  it('Organizations: list, create, switch', async () => {
    await admin.getByRole('link', { name: 'Organizations' }).click();
    await admin.getByLabel('Name', { exact: true }).fill('Beta Corp');
    await admin.getByLabel('Slug (optional)').fill('beta');
    await admin.getByRole('button', { name: 'Create organization' }).click();
    await admin.waitForURL('**/o/beta/people');
    await admin.getByRole('link', { name: 'Organizations' }).click();
    await admin.getByRole('link', { name: 'Switch to Beta Corp' }).waitFor();
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'organizations');
    // a taken slug: the API's words next to the form
    await admin.getByLabel('Name', { exact: true }).fill('Beta again');
    await admin.getByLabel('Slug (optional)').fill('beta');
    await admin.getByRole('button', { name: 'Create organization' }).click();
    await expect(admin.getByRole('alert').textContent()).resolves.toMatch(/beta|slug|taken/i);
    await admin.getByLabel('Organization', { exact: true }).selectOption({ label: 'Acme' });
    await admin.waitForURL('**/o/acme/people');
  });

  it('Settings → Roles: a predefined role is read-only; a custom role is created, edited and deleted; a refusal is shown in words', async () => {
    await admin.getByRole('link', { name: 'Settings → Roles' }).click();
    await admin.getByRole('button', { name: 'View permissions of Owner' }).click();
    const view = admin.getByRole('dialog', { name: 'Permissions of Owner' });
    const boxes = view.getByRole('checkbox');
    await expect(boxes.count()).resolves.toBe(38);
    await expect(boxes.first().isDisabled()).resolves.toBe(true);
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'roles-view');
    await view.getByRole('button', { name: 'Close' }).click();

    await admin.getByRole('tab', { name: 'Project roles' }).click();
    await admin.locator('tr[data-role="Contributor"]').waitFor();
    await admin.getByRole('button', { name: 'New Role' }).click();
    const editor = admin.getByRole('dialog', { name: 'New Role' });
    await editor.getByLabel('Role name').fill('Deployer');
    await editor.getByLabel('Scope').selectOption('project');
    await editor.getByLabel('Search permissions').fill('job');
    await editor.getByRole('checkbox', { name: /project\.job\.rerun/ }).check();
    await editor.getByRole('checkbox', { name: /project\.job\.stop/ }).check();
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await admin.locator('tr[data-role="Deployer"]').getByRole('cell', { name: '3', exact: true }).waitFor();
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'roles');

    await admin.getByRole('button', { name: 'Edit role Deployer' }).click();
    const edit = admin.getByRole('dialog', { name: 'Edit role Deployer' });
    await edit.getByLabel('Search permissions').fill('attach');
    await edit.getByRole('checkbox', { name: /project\.job\.attach/ }).check();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await admin.locator('tr[data-role="Deployer"]').getByRole('cell', { name: '4', exact: true }).waitFor();

    await admin.getByRole('button', { name: 'Delete role Deployer' }).click();
    await admin.getByRole('dialog', { name: 'Delete role Deployer' }).getByRole('button', { name: 'Delete role' }).click();
    await admin.locator('tr[data-role="Deployer"]').waitFor({ state: 'detached' });

    // a role manager who may not view the audit log cannot make a role that may
    const http = request(system.baseUrl);
    const managerRole = await http
      .post(`/api/v1/organizations/${orgId}/roles`)
      .set(bearer(adminToken))
      .send({
        name: 'Role manager',
        description: 'Manages roles',
        scope: 'organization',
        permissions: ['organization.view', 'organization.custom_roles.view', 'organization.custom_roles.manage'],
      })
      .expect(201);
    const manager = await account('rita@example.com', managerRole.body.id);
    const rita = await openConsole(browser);
    await signInWithToken(rita, manager.token, '/o/acme/settings/roles');
    await rita.getByRole('button', { name: 'New Role' }).click();
    const refused = rita.getByRole('dialog', { name: 'New Role' });
    await refused.getByLabel('Role name').fill('Sneaky');
    await refused.getByLabel('Search permissions').fill('audit_logs.view');
    await refused.getByRole('checkbox', { name: /organization\.audit_logs\.view/ }).check();
    await refused.getByRole('button', { name: 'Save changes' }).click();
    await expect(refused.getByRole('alert').textContent()).resolves.toContain('organization.audit_logs.view');
    await screenshot(rita, 'roles-refused');
    expect(pageProblems(rita)).toEqual([]);
    await rita.close();
  });

  it('Projects and People: removing a project owner is refused with the project and a transfer; after the transfer the removal works', async () => {
    const pat = await account('pat@example.com');
    await request(system.baseUrl)
      .post(`/api/v1/organizations/${orgId}/groups`)
      .set(bearer(adminToken))
      .send({ name: 'Developers', description: 'Ship code', memberIds: [] })
      .expect(201);
    await request(system.baseUrl).post(`/api/v1/organizations/${orgId}/projects`).set(bearer(pat.token)).send({ name: 'api' }).expect(201);

    await admin.getByRole('link', { name: 'People', exact: true }).click();
    await admin.getByRole('button', { name: 'Remove pat' }).click();
    const remove = admin.getByRole('dialog', { name: 'Remove pat' });
    await remove.getByRole('button', { name: 'Remove from organization' }).click();
    await expect(remove.getByRole('alert').textContent()).resolves.toMatch(/project/i);
    await remove.getByRole('link', { name: 'api' }).waitFor();
    await remove.getByLabel('New owner of api', { exact: true }).selectOption({ label: 'admin' });
    await screenshot(admin, 'people-remove-refused');
    await remove.getByRole('button', { name: 'Transfer ownership' }).click();
    await remove.getByText('ownership transferred').waitFor();
    await remove.getByRole('button', { name: 'Remove from organization' }).click();
    await remove.waitFor({ state: 'detached' });
    await admin.locator('tr[data-person="pat"]').waitFor({ state: 'detached' });

    await admin.getByRole('link', { name: 'Projects' }).click();
    const row = admin.locator('tr[data-project="api"]');
    await row.getByRole('cell', { name: 'admin', exact: true }).waitFor();
    await admin.getByLabel('New project name').fill('web');
    await admin.getByRole('button', { name: 'Create project' }).click();
    await admin.locator('tr[data-project="web"]').waitFor();
    await admin.getByRole('button', { name: 'Members of api' }).click();
    const members = admin.getByRole('dialog', { name: 'Members of api' });
    await members.getByLabel('Person or group').selectOption({ label: 'Developers (group)' });
    await members.getByLabel('Project role').selectOption({ label: 'Reader' });
    await members.getByRole('button', { name: 'Save changes' }).click();
    await members.locator('tr[data-member="Developers"]', { hasText: 'Reader' }).waitFor();
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'projects-members');
    await members.getByRole('button', { name: 'Close' }).click();
    await admin.getByRole('button', { name: 'Delete project web' }).waitFor();
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'projects');
  });

  it('People of an organization of 58 members and groups: first rows (their time printed), search, more rows on scrolling; the keyboard works the dialogs', async () => {
    // 55 more members (and 55 audit entries) in one request
    const accounts = Array.from({ length: 55 }, (_, i) => ({ email: `bulk${i}@example.com` }));
    await request(system.baseUrl).post(`/api/v1/organizations/${orgId}/accounts`).set(bearer(adminToken)).send({ accounts }).expect(201);
    // the read model has caught up with the 55 new members (what is timed below is the page, not that catch-up)
    await eventually(async () => {
      const page = await request(system.baseUrl).get(`/api/v1/organizations/${orgId}/people?limit=500`).set(bearer(adminToken));
      return page.body.items?.length >= 58;
    });

    await admin.getByRole('link', { name: 'Groups', exact: true }).click();
    await admin.getByRole('heading', { name: 'Groups' }).waitFor();
    const started = Date.now();
    await admin.getByRole('link', { name: 'People', exact: true }).click();
    await admin.locator('tbody tr[data-person]').first().waitFor();
    const ms = Date.now() - started;
    console.log(`console: People page first rows ${ms} ms after navigation (organization of 58 people and groups)`);
    const rows = admin.locator('tbody tr[data-person]');
    await eventually(async () => (await rows.count()) >= 50);
    await admin.getByRole('button', { name: 'Load more' }).scrollIntoViewIfNeeded();
    await eventually(async () => (await rows.count()) >= 58, 10_000, 'the next page on scrolling');
    await expect(admin.getByRole('button', { name: 'Load more' }).count()).resolves.toBe(0);

    await admin.getByLabel('Search people').fill('bulk1');
    await eventually(async () => {
      const names = await admin.locator('tbody tr[data-person]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-person')));
      return names.length === 11 && names.every((n) => n?.startsWith('bulk1'));
    });
    await screenshot(admin, 'people-search');

    // keyboard: Enter opens the dialog with the focus inside, arrows move between tabs, Escape closes it
    await admin.getByRole('button', { name: 'Add people' }).focus();
    await admin.keyboard.press('Enter');
    const dialog = admin.getByRole('dialog', { name: 'Add people' });
    await dialog.waitFor();
    await expect(dialog.evaluate((d) => d.contains(d.ownerDocument.activeElement))).resolves.toBe(true);
    await dialog.getByRole('tab', { name: 'Invite existing users' }).focus();
    await admin.keyboard.press('ArrowRight');
    await expect(dialog.getByRole('tab', { name: 'Create accounts' }).getAttribute('aria-selected')).resolves.toBe('true');
    await admin.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await admin.getByLabel('Search people').fill('');
  });

  it('Audit logs: newest first, filters, Load more with the cursor, details, Export CSV with the current filters', async () => {
    await eventually(async () => {
      const page = await request(system.baseUrl).get(`/api/v1/organizations/${orgId}/audit-logs?limit=500`).set(bearer(adminToken));
      return page.body.items?.length > 60;
    });

    await admin.getByRole('link', { name: 'Audit logs' }).click();
    const rows = admin.locator('tbody tr[data-entry]');
    await rows.first().waitFor();
    await expect(rows.count()).resolves.toBe(50);
    await admin.getByRole('button', { name: 'Load more' }).click();
    await eventually(async () => (await rows.count()) > 50);
    const times = await admin.locator('tbody tr[data-entry] td:first-child').allTextContents();
    const parsed = times.map((t) => new Date(t).getTime());
    expect(parsed.every((t, i) => i === 0 || Number.isNaN(t) || t <= parsed[i - 1])).toBe(true);

    await admin.getByLabel('Resource').selectOption('Project');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(async () => {
      const what = await admin.locator('tbody tr[data-entry] td:nth-child(3)').allTextContents();
      return what.length > 0 && what.every((w) => w.startsWith('Project'));
    });
    await rows.first().getByRole('button', { name: 'Details' }).click();
    const details = admin.locator('tr.details');
    await details.getByText('Request id').waitFor();
    await details.getByText('web', { exact: true }).waitFor(); // the console's own changes are recorded with the medium web
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'audit-logs');

    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(csv.length).toBeGreaterThan(1);
    expect(csv.slice(1).every((line) => line.includes('Project'))).toBe(true);
  });
});
