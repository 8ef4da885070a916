/**
 * bench/console-people: the web console's People page in a real browser (Chromium headless, playwright-core) on
 * an organization of 100,000 members and 1,000 groups next to one of 100 members, in the same run.
 *
 *   npm run bench:console [-- rounds=10] [members=100000] [groups=1000] [pages=5]
 *
 * The whole system starts in this process as the console's browser tests start it (test/support/system.ts;
 * the console is built first when its sources are newer than dist/console); the organizations are created
 * through the API and their people published to the events stream as bench/people does (bench/lib/people-seed.ts:
 * usernames such as `maria.silva.000042`, each user in one or two groups; the audit log is stopped first). The
 * bootstrap admin signs in with its API token in one tab, and for each organization, `rounds` times:
 *
 * - first rows: from the click on the side menu's "People" (coming from Settings → Roles) to the first row of
 *   the list on screen;
 * - next page: from scrolling "Load more" into view (the page loads the next 50 when it appears) to the next
 *   rows on screen, for pages 2 to `pages` (the small organization has 2 pages: one figure per round);
 * - heap: the tab's JS heap after a forced GC with those pages listed (and the DOM's element count);
 * - searches: typed into the search box at one key every `TYPE_DELAY_MS`, from the last keystroke to the rows of
 *   the result on screen (the page's 250 ms debounce included), a rare one (`aiko.tanaka.000042`, one person)
 *   and a common one (`maria`, 1 in 20); and how many people requests each search sent.
 *
 * Times are taken in the page (performance.now() at the click, the scroll or the last `input` event, and at
 * the animation frame after the DOM met the condition), so the playwright round trips do not count; the people
 * request's part of them (Resource Timing) and the tab's main-thread task time (CDP `TaskDuration`, which the
 * other processes' load on the machine disturbs less than wall time). Printed:
 * p50/p99 over the rounds (with 10 rounds p99 is the slowest), for both organizations, and the ratio big/small.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Page } from 'playwright-core';
import { provideTestInfrastructure } from '../../libs/testing/src/infra';
import { ensureConsoleBuilt, launchBrowser, openConsole, pageProblems, signInWithToken } from '../../test/console/browser';
import { percentile } from '../lib/http-load';
import { publish, seedEvents, usernameOf, waitForList, waitForPeopleSnapshot } from '../lib/people-seed';

const TYPE_DELAY_MS = 80;

/** The few browser globals the functions run in the page use (the repository's tsconfig has no DOM types). */
interface PageElement {
  getAttribute(name: string): string | null;
  click(): void;
  scrollIntoView(): void;
}
interface PageGlobals {
  document: {
    body: unknown;
    querySelectorAll(selector: string): ArrayLike<PageElement>;
    querySelector(selector: string): PageElement | null;
    getElementsByTagName(tag: string): ArrayLike<unknown>;
    addEventListener(type: string, listener: () => void, capture: boolean): void;
  };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: object): void; disconnect(): void };
  PopStateEvent: new (type: string) => unknown;
  history: { pushState(state: null, title: string, url: string): void };
  requestAnimationFrame(callback: () => void): void;
  dispatchEvent(event: unknown): void;
  scrollTo(x: number, y: number): void;
  /** the bench's own: the pending measurement, the time of the last `input` event */
  __shown?: Promise<Timing>;
  __lastInput?: number;
  __inputProbe?: boolean;
}

/** A step's time, and the part of it its people request took (the last one to finish; Resource Timing). */
interface Timing {
  ms: number;
  requestMs: number;
}

/** What the list must show for a step to be done: at least `rows` rows, each (when given) a username starting with `prefix`. */
interface Shown {
  rows: number;
  prefix?: string;
}

/**
 * In the page: starts waiting for `shown` (a MutationObserver, then the next animation frame: the rows are on
 * screen), runs `action` (click a selector, or scroll it into view), and resolves with the milliseconds from
 * `since` ('action': the action; 'input': the last `input` event) to then, with the duration of the people request
 * that finished last. Kept as `window.__shown`.
 */
async function startWaiting(page: Page, shown: Shown, action?: { click?: string; scroll?: string }, since: 'action' | 'input' = 'action'): Promise<void> {
  await page.evaluate(
    ({ shown, action, since }) => {
      const w = globalThis as unknown as PageGlobals;
      if (!w.__inputProbe) {
        w.document.addEventListener('input', () => (w.__lastInput = performance.now()), true);
        w.__inputProbe = true;
      }
      const met = () => {
        const rows = Array.from(w.document.querySelectorAll('tbody tr[data-person]'));
        return rows.length >= shown.rows && (!shown.prefix || rows.every((r) => (r.getAttribute('data-person') ?? '').startsWith(shown.prefix!)));
      };
      performance.clearResourceTimings(); // (the buffer keeps 250 entries)
      const shownAt = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => (observer.disconnect(), reject(new Error(`not shown within 120 s: ${JSON.stringify(shown)}`))), 120_000);
        const check = () => {
          if (!met()) return;
          observer.disconnect();
          clearTimeout(timer);
          w.requestAnimationFrame(() => resolve(performance.now()));
        };
        const observer = new w.MutationObserver(check);
        observer.observe(w.document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-person'] });
      });
      const t0 = performance.now();
      if (action?.click) w.document.querySelector(action.click)!.click();
      if (action?.scroll) w.document.querySelector(action.scroll)!.scrollIntoView();
      w.__shown = shownAt.then((t) => {
        const requests = performance.getEntriesByType('resource').filter((e) => /\/people(\?|$)/.test(e.name));
        const last = requests.sort((a, b) => b.startTime + b.duration - (a.startTime + a.duration))[0];
        return { ms: t - (since === 'input' ? w.__lastInput! : t0), requestMs: last?.duration ?? NaN };
      });
    },
    { shown, action, since },
  );
}

const shownAfter = (page: Page): Promise<Timing> => page.evaluate(() => (globalThis as unknown as PageGlobals).__shown!);

/** Client-side navigation (the session lives in the tab's memory: a reload would sign out). */
const go = (page: Page, path: string) =>
  page.evaluate((to) => {
    const w = globalThis as unknown as PageGlobals;
    w.history.pushState(null, '', to);
    w.dispatchEvent(new w.PopStateEvent('popstate'));
  }, path);

interface Figures {
  first: number[];
  firstRequest: number[];
  next: number[];
  nextRequest: number[];
  /** the last page's (`pages`) */
  lastNext: number[];
  /** the tab's main-thread task time (CDP Performance.getMetrics TaskDuration) during a next page, and during a typed rare search */
  nextTask: number[];
  rareTask: number[];
  rare: number[];
  rareRequest: number[];
  common: number[];
  commonRequest: number[];
  heapMb: number[];
  elements: number[];
  requestsPerSearch: number[];
}

/** Counts the tab's people requests with a search (one counter per tab). */
const counters = new WeakMap<Page, { count: number }>();
function searchRequests(page: Page): { count: number } {
  let counter = counters.get(page);
  if (!counter) {
    const c = (counter = { count: 0 });
    page.on('request', (r) => void (/\/people\?.*search=/.test(r.url()) && c.count++));
    counters.set(page, c);
  }
  return counter;
}

async function measureOrg(page: Page, slug: string, rounds: number, pages: number): Promise<Figures> {
  const f: Figures = {
    ...{
      first: [],
      firstRequest: [],
      next: [],
      nextRequest: [],
      lastNext: [],
      nextTask: [],
      rareTask: [],
      rare: [],
      rareRequest: [],
      common: [],
      commonRequest: [],
    },
    ...{ heapMb: [], elements: [], requestsPerSearch: [] },
  };
  const add = (key: 'first' | 'next' | 'rare' | 'common', t: Timing) => (f[key].push(t.ms), f[`${key}Request`].push(t.requestMs));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskMs = async () => 1000 * ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN);
  const searches = searchRequests(page);
  const rows = () => page.locator('tbody tr[data-person]').count();
  const search = async (text: string, shown: Shown, rare: boolean) => {
    const box = page.getByLabel('Search people');
    await box.click();
    searches.count = 0;
    const task = await taskMs();
    await startWaiting(page, shown, undefined, 'input');
    await box.pressSequentially(text, { delay: TYPE_DELAY_MS });
    const timing = await shownAfter(page);
    if (rare) f.rareTask.push((await taskMs()) - task);
    f.requestsPerSearch.push(searches.count);
    await box.fill('');
    await page.locator('tr[data-person="admin"]').waitFor(); // the unfiltered list again (the admin joined first)
    return timing;
  };
  await go(page, `/o/${slug}/settings/roles`);
  for (let round = 0; round < rounds; round++) {
    // this organization's Roles page (while another organization's context loads, the console still shows the previous one)
    await page.locator(`nav.side a[href="/o/${slug}/settings/roles"][aria-current="page"]`).waitFor();
    await page.locator('tr[data-role="Owner"]').waitFor();
    await startWaiting(page, { rows: 1 }, { click: `nav.side a[href="/o/${slug}/people"]` });
    add('first', await shownAfter(page));
    for (let p = 2; p <= pages && (await page.locator('button.load-more').count()) > 0; p++) {
      const task = await taskMs();
      await startWaiting(page, { rows: (await rows()) + 1 }, { scroll: 'button.load-more' }); // a page's rows come in one render
      add('next', await shownAfter(page));
      f.nextTask.push((await taskMs()) - task);
    }
    if (f.next.length) f.lastNext.push(f.next[f.next.length - 1]);
    await cdp.send('HeapProfiler.collectGarbage');
    f.heapMb.push((await cdp.send('Runtime.getHeapUsage')).usedSize / 1e6);
    f.elements.push(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.getElementsByTagName('*').length));
    await page.evaluate(() => (globalThis as unknown as PageGlobals).scrollTo(0, 0));
    add('rare', await search(usernameOf(42), { rows: 1, prefix: usernameOf(42) }, true));
    add('common', await search('maria', { rows: 1, prefix: 'maria' }, false));
    await page.locator(`nav.side a[href="/o/${slug}/settings/roles"]`).click();
  }
  if (pageProblems(page).length) throw new Error(`page errors: ${pageProblems(page).join('; ')}`);
  return f;
}

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

function table(big: Figures, small: Figures, members: number, groups: number, pages: number): string {
  const rows: Array<[string, keyof Figures, number]> = [
    ['first rows after navigation (ms)', 'first', 0],
    ['  of which the people request', 'firstRequest', 0],
    ['next page by scrolling (ms)', 'next', 0],
    ['  of which the people request', 'nextRequest', 0],
    [`the last one (page ${pages}, or the last page)`, 'lastNext', 0],
    ['  main-thread task time of a next page (ms)', 'nextTask', 0],
    [`rare search "${usernameOf(42)}" (ms)`, 'rare', 0],
    ['  of which the people request', 'rareRequest', 0],
    ['  main-thread task time, typing included (ms)', 'rareTask', 0],
    ['common search "maria" (ms)', 'common', 0],
    ['  of which the people request', 'commonRequest', 0],
    [`JS heap after ${pages} pages (MB)`, 'heapMb', 1],
    [`DOM elements after ${pages} pages`, 'elements', 0],
    ['people requests per typed search', 'requestsPerSearch', 0],
  ];
  const n = (x: number, d: number) => x.toFixed(d).padStart(8);
  const lines = rows.map(([label, key, d]) => {
    const b = stats(big[key]);
    const s = stats(small[key]);
    return `${label.padEnd(42)} ${n(b.p50, d)} ${n(b.p99, d)}   ${n(s.p50, d)} ${n(s.p99, d)}   ${(b.p50 / s.p50).toFixed(2).padStart(5)} ${(b.p99 / s.p99).toFixed(2).padStart(5)}`;
  });
  return (
    `${'scenario'.padEnd(42)} ${'big p50'.padStart(8)} ${'big p99'.padStart(8)}   ${'sml p50'.padStart(8)} ${'sml p99'.padStart(8)}   ratio p50/p99 (big/small)\n` +
    `${lines.join('\n')}\n(big: ${members} members + ${groups} groups, ${big.next.length} next pages; small: 100 members, ${small.next.length} next pages; ` +
    `searches typed at one key per ${TYPE_DELAY_MS} ms, timed from the last key)\n`
  );
}

async function main() {
  const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? fallback);
  const rounds = arg('rounds', 10);
  const members = arg('members', 100_000);
  const groups = arg('groups', 1000);
  const pages = arg('pages', 5);
  ensureConsoleBuilt();
  const infra = await provideTestInfrastructure();
  process.env.MONGO_URL = infra.mongoUrl;
  process.env.NATS_URL = infra.natsUrl;
  process.env.TEST_SUBJECT_PREFIX = `bench${randomUUID().slice(0, 6)}.`; // the namespace test/support/system gives the services
  process.env.TEST_LOG_LEVEL = 'silent';
  const { startSystem, BOOTSTRAP_TOKEN } = await import('../../test/support/system');
  const { checkContractAndCleanUp, testDatabaseName } = await import('../../libs/testing/src/per-file');
  const system = await startSystem({ SERVICE_REQUEST_TIMEOUT_MS: '120000' });
  const client = await new MongoClient(infra.mongoUrl).connect();
  const { browser, close: closeBrowser } = await launchBrowser(system.baseUrl);
  try {
    const create = async (name: string) => {
      const res = await fetch(`${system.baseUrl}/api/v1/organizations`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${BOOTSTRAP_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (res.status !== 201) throw new Error(`POST /organizations answered ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; slug: string };
    };
    const big = await create('Big Org');
    const small = await create('Small Org');
    await system.stopService('audit-log');
    const t0 = performance.now();
    const published = await publish(
      infra.natsUrl,
      (function* () {
        yield* seedEvents(big.id, members - 1, groups, false);
        yield* seedEvents(small.id, 99, 0, false);
      })(),
    );
    const people = (org: string, query: string) => `${system.baseUrl}/api/v1/organizations/${org}/people${query}`;
    await waitForList(people(small.id, `?search=${usernameOf(98)}`), BOOTSTRAP_TOKEN, (n) => n === 1);
    await waitForList(people(big.id, `?search=${usernameOf(members - 2)}`), BOOTSTRAP_TOKEN, (n) => n === 1);
    await waitForList(people(big.id, `?type=group&limit=1`), BOOTSTRAP_TOKEN, (n) => n === 1);
    const snapshotAt = await waitForPeopleSnapshot(client.db(testDatabaseName('membership')), published);
    process.stdout.write(
      `published ${published} events (${members} + 100 members, ${groups} groups); the list showed them ${((performance.now() - t0) / 1000).toFixed(1)} s after the first (people snapshot at ${snapshotAt})\n`,
    );

    const page = await openConsole(browser);
    page.setDefaultTimeout(120_000);
    await signInWithToken(page, BOOTSTRAP_TOKEN);
    await page.waitForURL('**/o/*/people'); // signed in, on the first organization's first page
    // a warm-up round on each (the browser's first parse and the services' first requests), then the measured ones
    await measureOrg(page, small.slug, 1, pages);
    await measureOrg(page, big.slug, 1, pages);
    const sml = await measureOrg(page, small.slug, rounds, pages);
    const bg = await measureOrg(page, big.slug, rounds, pages);
    process.stdout.write(`\nbench/console-people: Chromium headless, ${rounds} rounds per organization after one warm-up; ${infra.description}\n\n`);
    process.stdout.write(table(bg, sml, members, groups, pages));
  } finally {
    await closeBrowser();
    await client.close();
    await system.close();
    await checkContractAndCleanUp().catch(() => undefined);
    await infra.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
