import request from 'supertest';
import type { BrowserContext, Page } from 'playwright-core';
import { BOOTSTRAP_TOKEN, startSystem, type RunningSystem } from '../support/system';
import { gatewayOpenApi } from '../../scripts/gateway-openapi';
import { apiTrouble, ensureConsoleBuilt, launchBrowser, openConsole, pageProblems, screenshot, seriousViolations, signIn, signInWithToken } from './browser';

/**
 * The web console in a real browser (Debian's Chromium, headless) against the whole system: sign-in, the
 * People page and its dialogs, groups with a custom role, who sees the Audit logs page. docs/console.md.
 */
describe('web console: sign-in, People, Groups (browser)', () => {
  let system: RunningSystem;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let admin: Page;
  const temporary: Record<string, string> = {};

  beforeAll(async () => {
    ensureConsoleBuilt();
    system = await startSystem({ BOOTSTRAP_ORG_NAME: 'Acme' });
    ({ browser, close: closeBrowser } = await launchBrowser(system.baseUrl));
    admin = await openConsole(browser);
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

  it('the gateway serves the console at / with a Content-Security-Policy, index.html for its paths, and keeps the API, /docs and 404s as they were', async () => {
    const http = request(system.baseUrl);
    const root = await http.get('/').expect(200);
    expect(root.headers['content-type']).toMatch(/text\/html/);
    expect(root.headers['content-security-policy']).toContain("script-src 'self'");
    expect(root.text).not.toMatch(/<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const deep = await http.get('/o/acme/people').set('Accept', 'text/html').expect(200);
    expect(deep.text).toBe(root.text);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(root.text)![1];
    const asset = await http.get(script).expect(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    for (const path of ['/api/v1/nothing-here', '/assets/missing.js', '/metrics', '/health/nothing']) {
      const res = await http.get(path).set('Accept', 'text/html').expect(404);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    // the document the console's API types are generated from (without infrastructure) is the one the gateway serves
    expect(JSON.parse(JSON.stringify(await gatewayOpenApi()))).toEqual((await http.get('/docs-json').expect(200)).body);
    await http.get('/api/v1/me').set('Authorization', `Bearer ${BOOTSTRAP_TOKEN}`).expect(200);
  });

  it('an admin signs in and the People page shows its first rows (their time printed)', async () => {
    await signInWithToken(admin, BOOTSTRAP_TOKEN);
    await admin.waitForURL('**/o/acme/people');
    await admin.getByRole('link', { name: 'Groups', exact: true }).click();
    await admin.getByRole('heading', { name: 'Groups' }).waitFor();
    const started = Date.now();
    await admin.getByRole('link', { name: 'People', exact: true }).click();
    await admin.locator('tr[data-person="admin"]').waitFor();
    const ms = Date.now() - started;
    console.log(`console: People page first rows ${ms} ms after navigation (organization of ${await admin.locator('tbody tr').count()} rows)`);
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'people');
  });

  it('Add people → Create accounts shows each temporary password once; Invite lists the handles not found', async () => {
    await admin.getByRole('button', { name: 'Add people' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Add people' });
    await dialog.getByRole('tab', { name: 'Create accounts' }).click();
    await dialog.getByLabel('Email of account 1').fill('ann@example.com');
    await dialog.getByRole('button', { name: 'Add another account' }).click();
    await dialog.getByLabel('Email of account 2').fill('bob@example.com');
    await dialog.getByLabel('Username of account 2 (optional)').fill('Bobby');
    await dialog.getByRole('button', { name: 'Create accounts' }).click();
    for (const username of ['ann', 'Bobby']) {
      temporary[username] = await dialog.getByLabel(`Temporary password of ${username}`, { exact: true }).inputValue();
      expect(temporary[username].length).toBeGreaterThanOrEqual(10);
    }
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'people-create-accounts');

    await dialog.getByRole('tab', { name: 'Invite existing users' }).click();
    await dialog.getByLabel('Usernames or emails').fill('ann, bobby, nobody-here');
    await dialog.getByRole('button', { name: 'Invite' }).click();
    const notFound = dialog.getByRole('list', { name: 'Handles not found' });
    await notFound.waitFor();
    await expect(notFound.getByRole('listitem').allTextContents()).resolves.toEqual(['bobby', 'nobody-here']);
    await dialog.getByText('Already members: ann.').waitFor();
    await screenshot(admin, 'people-invite');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await admin.locator('tr[data-person="Bobby"]').waitFor();
  });

  it('a created account signs in with its temporary password and must choose a new one first', async () => {
    const ann = await openConsole(browser);
    await ann.goto('/');
    await ann.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expect(seriousViolations(ann)).resolves.toEqual([]);
    await screenshot(ann, 'sign-in');
    await signIn(ann, 'ann@example.com', temporary.ann);
    await ann.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await expect(seriousViolations(ann)).resolves.toEqual([]);
    await screenshot(ann, 'choose-new-password');
    await ann.getByLabel('New password', { exact: true }).fill('ann-own-password-1');
    await ann.getByLabel('New password again').fill('ann-own-password-1');
    await ann.getByRole('button', { name: 'Set password' }).click();
    // a Member: no People page, lands on the first page they may see
    await ann.waitForURL('**/o/acme/groups');
    await expect(ann.getByRole('link', { name: 'People', exact: true }).count()).resolves.toBe(0);
    await ann.getByRole('button', { name: 'Sign out' }).click();
    await ann.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(ann, 'ann', temporary.ann);
    await expect(ann.getByRole('alert').textContent()).resolves.toMatch(/invalid|password/i);
    expect(pageProblems(ann)).toEqual([]);
    await ann.close();
  });

  it('Reset password shows the new temporary password once; Change Role offers only grantable roles; Remove works', async () => {
    await admin.getByRole('button', { name: 'Reset password of Bobby' }).click();
    const reset = admin.getByRole('dialog', { name: 'Reset password of Bobby' });
    await reset.getByRole('button', { name: 'Reset password' }).click();
    const fresh = await reset.getByLabel('Temporary password of Bobby', { exact: true }).inputValue();
    expect(fresh).not.toBe(temporary.Bobby);
    await screenshot(admin, 'people-reset-password');
    await reset.getByRole('button', { name: 'Done' }).click();

    // the bootstrap admin is not an account the organization created: the API's refusal is shown in words
    await admin.getByRole('button', { name: 'Reset password of admin' }).click();
    const refused = admin.getByRole('dialog', { name: 'Reset password of admin' });
    await refused.getByRole('button', { name: 'Reset password' }).click();
    await expect(refused.getByRole('alert').textContent()).resolves.toMatch(/\w+/);
    await refused.getByRole('button', { name: 'Cancel' }).click();

    await admin.getByRole('button', { name: 'Change Role of Bobby' }).click();
    const change = admin.getByRole('dialog', { name: 'Change Role of Bobby' });
    await expect(change.getByLabel('Role').locator('option').allTextContents()).resolves.toEqual(expect.arrayContaining(['Owner', 'Admin', 'Member']));
    await change.getByLabel('Role').selectOption({ label: 'Admin' });
    await change.getByRole('button', { name: 'Save changes' }).click();
    await admin.locator('tr[data-person="Bobby"]', { hasText: 'Admin' }).waitFor();

    // an Admin (no organization.change_owner) is not offered Owner
    const bobby = await openConsole(browser);
    await signIn(bobby, 'Bobby', fresh);
    await bobby.getByLabel('New password', { exact: true }).fill('bobby-own-password-1');
    await bobby.getByLabel('New password again').fill('bobby-own-password-1');
    await bobby.getByRole('button', { name: 'Set password' }).click();
    await bobby.getByRole('button', { name: 'Change Role of ann' }).click();
    const offered = await bobby.getByRole('dialog', { name: 'Change Role of ann' }).getByLabel('Role').locator('option').allTextContents();
    expect(offered).toEqual(expect.arrayContaining(['Admin', 'Member']));
    expect(offered).not.toContain('Owner');
    expect(pageProblems(bobby)).toEqual([]);
    await bobby.close();

    await admin.getByRole('button', { name: 'Remove admin' }).click();
    const owner = admin.getByRole('dialog', { name: 'Remove admin' });
    await owner.getByRole('button', { name: 'Remove from organization' }).click();
    await expect(owner.getByRole('alert').textContent()).resolves.toMatch(/owner/i);
    await owner.getByRole('button', { name: 'Cancel' }).click();
  });

  it('a group with a custom role that may view the audit log: its member sees the Audit logs page, a Member without it does not', async () => {
    // the custom role, found with the permission search of Settings → Roles → New Role
    await admin.getByRole('link', { name: 'Settings → Roles' }).click();
    await admin.getByRole('button', { name: 'New Role' }).click();
    const editor = admin.getByRole('dialog', { name: 'New Role' });
    await editor.getByLabel('Role name').fill('Auditor');
    await editor.getByLabel('Description').fill('Reads the audit log');
    await editor.getByLabel('Search permissions').fill('audit_logs.view');
    await editor.getByRole('checkbox', { name: /organization\.audit_logs\.view/ }).check();
    await screenshot(admin, 'roles-new-role');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await admin.locator('tr[data-role="Auditor"]').waitFor();

    // Create group with ann; a new group shows the Member role; Modify Role gives it Auditor
    await admin.getByRole('link', { name: 'Groups', exact: true }).click();
    await admin.getByRole('button', { name: 'Create group' }).click();
    const create = admin.getByRole('dialog', { name: 'Create group' });
    await create.getByLabel('Group name').fill('Auditors');
    await create.getByLabel('Description').fill('People who read the audit log');
    await create.getByLabel('Find people').fill('ann');
    await create.getByRole('checkbox', { name: /^ann/ }).check();
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await create.getByRole('button', { name: 'Create group' }).click();
    const row = admin.locator('tr[data-group="Auditors"]');
    await row.getByRole('cell', { name: 'Member', exact: true }).waitFor();
    await admin.getByRole('button', { name: 'Modify Role of Auditors' }).click();
    const role = admin.getByRole('dialog', { name: 'Modify Role of Auditors' });
    await role.getByLabel('Role').selectOption({ label: 'Auditor (custom)' });
    await role.getByRole('button', { name: 'Save changes' }).click();
    await row.getByRole('cell', { name: 'Auditor', exact: true }).waitFor();
    await row.getByRole('cell', { name: 'ann', exact: true }).waitFor();
    await expect(seriousViolations(admin)).resolves.toEqual([]);
    await screenshot(admin, 'groups');
    // People says which group ann's Auditor role comes from
    await admin.getByRole('link', { name: 'People', exact: true }).click();
    await admin.locator('tr[data-person="ann"] li', { hasText: 'Auditor (from Auditors)' }).waitFor();
    await admin.getByRole('link', { name: 'Groups', exact: true }).click();

    // ann, through the group, sees the Audit logs page and its entries
    const ann = await openConsole(browser);
    await signIn(ann, 'ann', 'ann-own-password-1');
    await ann.getByRole('link', { name: 'Audit logs' }).click();
    await ann.getByRole('heading', { name: 'Audit logs' }).waitFor();
    await ann.locator('tbody tr').first().waitFor();
    await expect(ann.getByRole('link', { name: 'People', exact: true }).count()).resolves.toBe(0);
    expect(pageProblems(ann)).toEqual([]);
    await ann.close();

    // Modify group: ann leaves it, and with it the page
    await admin.getByRole('button', { name: 'Modify group Auditors' }).click();
    const modify = admin.getByRole('dialog', { name: 'Modify group Auditors' });
    await modify.getByLabel('Find people').fill('ann');
    await modify.getByRole('checkbox', { name: /^ann/ }).uncheck();
    await modify.getByRole('button', { name: 'Save changes' }).click();
    await row.getByRole('cell', { name: '—', exact: true }).waitFor();

    const member = await openConsole(browser);
    await signIn(member, 'ann', 'ann-own-password-1');
    await member.getByRole('link', { name: 'Groups', exact: true }).waitFor();
    await expect(member.getByRole('link', { name: 'Audit logs' }).count()).resolves.toBe(0);
    await member.goto('/o/acme/audit-logs'); // a reload: signed out, then back to the page asked for
    await signIn(member, 'ann', 'ann-own-password-1', { goto: false });
    await member.waitForURL('**/o/acme/audit-logs');
    await expect(member.getByRole('alert').textContent()).resolves.toContain('organization.audit_logs.view');
    await expect(seriousViolations(member)).resolves.toEqual([]);
    await screenshot(member, 'audit-logs-refused');
    await member.close();
  });
});
