import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole(o?: { quiet?: boolean }): boolean };

/** Where the screenshots of the console's pages go (gitignored). */
export const SCREENSHOTS = resolve(__dirname, '../../test-output/console');

/** Builds the console when its sources are newer than its build (before the gateway that serves it starts). */
export function ensureConsoleBuilt(): void {
  buildConsole({ quiet: true });
}

/**
 * Chromium (Debian's, /usr/bin/chromium, or CHROMIUM_PATH) headless, with a fresh profile directory, on the
 * console at `baseUrl`. One browser per test file; each tab (`openConsole`) is another person, since the
 * console keeps its session in the tab's memory.
 */
export async function launchBrowser(baseUrl: string): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    baseURL: baseUrl,
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new tab (its own memory, so its own session: another person) on the console. */
export async function openConsole(browser: BrowserContext): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(String(err)));
  page.on('console', (msg) => msg.type() === 'error' && /Content Security Policy|Refused/.test(msg.text()) && problems.push(msg.text()));
  (page as Page & { problems: string[] }).problems = problems;
  // the API calls that went wrong, for apiTrouble
  const open = new Map<Request, number>();
  const trouble: string[] = [];
  const name = (r: Request) => `${r.method()} ${new URL(r.url()).pathname}`;
  const isApi = (r: Request) => new URL(r.url()).pathname.startsWith('/api/');
  page.on('request', (r) => isApi(r) && open.set(r, Date.now()));
  page.on('requestfailed', (r) => open.delete(r) && trouble.push(`${name(r)}: ${r.failure()?.errorText ?? 'failed'}`));
  page.on('requestfinished', (r) => {
    if (!open.delete(r)) return;
    void r.response().then((res) => {
      if (res && res.status() >= 500) trouble.push(`${name(r)}: ${res.status()}`);
    });
  });
  (page as Page & { apiTrouble: () => string[] }).apiTrouble = () => [
    ...trouble.splice(0),
    ...[...open].filter(([, at]) => Date.now() - at > 5000).map(([r, at]) => `${name(r)}: no answer after ${Date.now() - at} ms`),
  ];
  return page;
}

/**
 * The tab's API calls answered 5xx, failed or unanswered for more than 5 s since the last call (each said once): printed after
 * a test, so that a wait for the page that timed out says what the page was waiting for.
 */
export const apiTrouble = (page: Page): string[] => (page as Page & { apiTrouble?: () => string[] }).apiTrouble?.() ?? [];

/** Page errors and CSP refusals seen in the tab. */
export const pageProblems = (page: Page): string[] => (page as Page & { problems?: string[] }).problems ?? [];

/** The serious and critical accessibility violations axe-core finds on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Saves a screenshot of the page as test-output/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the Sign in page with a username or email and a password (`goto: false`: the page is already on its way there). */
export async function signIn(page: Page, login: string, password: string, { goto = true } = {}): Promise<void> {
  if (goto) await page.goto('/sign-in');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Username or email').fill(login);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Signs in with a personal API token. */
export async function signInWithToken(page: Page, token: string, path = '/'): Promise<void> {
  await page.goto(`/sign-in${path === '/' ? '' : `?next=${encodeURIComponent(path)}`}`);
  await page.getByLabel('Personal API token').fill(token);
  await page.getByRole('button', { name: 'Sign in with token' }).click();
}
