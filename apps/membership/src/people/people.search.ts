/**
 * Prefix search over one organization's people, in memory: every search term of every person (lowercased
 * username, name, words of the name, email) in a sorted array, so the people matching a prefix are one
 * binary search away. New terms are pushed onto a second, smaller array (`recent`; an insert into a sorted
 * array of 500,000 terms would move them all), sorted when a query finds it changed (nearly sorted already:
 * cheap) and merged into the big one once it holds more than `recentMax` entries (√n × 16: the merges of
 * 500,000 terms added one by one cost ~√n per term). A removed person's or a renamed person's old terms stay
 * until a merge and are skipped on reading (`live`).
 */

/** what the index needs to know of a person */
export interface Indexed {
  /** the person's current terms */
  terms: string[];
  /** set when the person left the organization */
  gone?: boolean;
}

export interface Entry<P extends Indexed> {
  term: string;
  person: P;
}

export interface TermIndex<P extends Indexed> {
  sorted: Array<Entry<P>>;
  recent: Array<Entry<P>>;
  /** whether `recent` is in term order (queries sort it first) */
  recentSorted: boolean;
  /** entries of `sorted` known to be dead (a merge drops them) */
  dead: number;
}

/** `recent` is merged into `sorted` beyond this many entries */
export const recentMax = (sorted: number): number => Math.max(1024, Math.sqrt(sorted) * 16);

export const emptyIndex = <P extends Indexed>(): TermIndex<P> => ({ sorted: [], recent: [], recentSorted: true, dead: 0 });

/** lowercased username, name, words of the name and email, each once */
export function searchTerms(p: { username?: string; name?: string; email?: string }): string[] {
  const terms = [p.username, p.name, ...(p.name ?? '').split(/\s+/), p.email].filter((t): t is string => !!t).map((t) => t.toLowerCase().replace(/\s+/g, ' '));
  return [...new Set(terms)];
}

const live = <P extends Indexed>(e: Entry<P>): boolean => !e.person.gone && e.person.terms.includes(e.term);
const byTerm = <P extends Indexed>(a: Entry<P>, b: Entry<P>): number => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0);

/** first index of `sorted` whose term is ≥ `term` */
function lowerBound<P extends Indexed>(sorted: Array<Entry<P>>, term: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid].term < term) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorts `recent` into `sorted`, dropping dead entries (none to look for while nobody left or was renamed). */
function merge<P extends Indexed>(index: TermIndex<P>): void {
  const add = index.recent.filter(live).sort(byTerm);
  const old = index.dead > 0 ? index.sorted.filter(live) : index.sorted;
  const out = new Array<Entry<P>>(old.length + add.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < out.length; k++) out[k] = j >= old.length || (i < add.length && add[i].term < old[j].term) ? add[i++] : old[j++];
  index.sorted = out;
  index.recent = [];
  index.recentSorted = true;
  index.dead = 0;
}

/** Indexes the person's current `terms` (call again after they changed; the old ones die). */
export function indexPerson<P extends Indexed>(index: TermIndex<P>, person: P): void {
  for (const term of person.terms) index.recent.push({ term, person });
  index.recentSorted = false;
  if (index.recent.length > recentMax(index.sorted.length)) merge(index);
}

/** Notes that `count` entries died (a person left or was renamed): many dead entries trigger a merge. */
export function noteDead<P extends Indexed>(index: TermIndex<P>, count: number): void {
  index.dead += count;
  if (index.dead > 1000 && index.dead > index.sorted.length / 4) merge(index);
}

/** Builds an index of many people at once (restoring a snapshot): one sort. */
export function buildIndex<P extends Indexed>(people: Iterable<P>): TermIndex<P> {
  const sorted: Array<Entry<P>> = [];
  for (const person of people) for (const term of person.terms) sorted.push({ term, person });
  return { sorted: sorted.sort(byTerm), recent: [], recentSorted: true, dead: 0 };
}

const countIn = <P extends Indexed>(entries: Array<Entry<P>>, prefix: string): number => lowerBound(entries, `${prefix}\uffff`) - lowerBound(entries, prefix);

function sortRecent<P extends Indexed>(index: TermIndex<P>): void {
  if (index.recentSorted) return;
  index.recent.sort(byTerm);
  index.recentSorted = true;
}

/** How many entries have a term starting with `prefix` (dead ones included): what the matching people cost to collect. */
export function countPrefix<P extends Indexed>(index: TermIndex<P>, prefix: string): number {
  sortRecent(index);
  return countIn(index.sorted, prefix) + countIn(index.recent, prefix);
}

/** The people with a current term starting with `prefix`, each once, in no particular order. */
export function peopleWithPrefix<P extends Indexed>(index: TermIndex<P>, prefix: string): Set<P> {
  sortRecent(index);
  const found = new Set<P>();
  for (const entries of [index.sorted, index.recent])
    for (let i = lowerBound(entries, prefix); i < entries.length && entries[i].term.startsWith(prefix); i++) if (live(entries[i])) found.add(entries[i].person);
  return found;
}

/** Whether a term of the person starts with `prefix` (the scan's test). */
export const hasPrefix = (person: Indexed, prefix: string): boolean => person.terms.some((t) => t.startsWith(prefix));
