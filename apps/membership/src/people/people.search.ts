/**
 * Prefix search over one organization's people, in memory: every search term of every person (lowercased
 * username, name, words of the name, email) in a sorted array, so the people matching a prefix are one
 * binary search away. New terms go to a small unsorted `recent` list that is merged into the sorted one
 * when it grows (an insert into a sorted array of 500,000 terms would move them all); a removed person's or
 * a renamed person's old terms stay until that merge and are skipped on reading (`live`).
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
  /** entries of `sorted` known to be dead (a merge drops them) */
  dead: number;
}

/** `recent` is merged into `sorted` beyond this many entries (a query reads `recent` whole) */
export const RECENT_MAX = 512;

export const emptyIndex = <P extends Indexed>(): TermIndex<P> => ({ sorted: [], recent: [], dead: 0 });

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

/** Sorts `recent` into `sorted`, dropping dead entries. */
function merge<P extends Indexed>(index: TermIndex<P>): void {
  const add = index.recent.filter(live).sort(byTerm);
  const out: Array<Entry<P>> = new Array<Entry<P>>();
  let i = 0;
  for (const e of index.sorted) {
    if (!live(e)) continue;
    while (i < add.length && byTerm(add[i], e) < 0) out.push(add[i++]);
    out.push(e);
  }
  while (i < add.length) out.push(add[i++]);
  index.sorted = out;
  index.recent = [];
  index.dead = 0;
}

/** Indexes the person's current `terms` (call again after they changed; the old ones die). */
export function indexPerson<P extends Indexed>(index: TermIndex<P>, person: P): void {
  for (const term of person.terms) index.recent.push({ term, person });
  if (index.recent.length > RECENT_MAX) merge(index);
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
  return { sorted: sorted.sort(byTerm), recent: [], dead: 0 };
}

/** How many entries have a term starting with `prefix` (dead ones included): what the matching people cost to collect. */
export function countPrefix<P extends Indexed>(index: TermIndex<P>, prefix: string): number {
  return lowerBound(index.sorted, `${prefix}\uffff`) - lowerBound(index.sorted, prefix) + index.recent.length;
}

/** The people with a current term starting with `prefix`, each once, in no particular order. */
export function peopleWithPrefix<P extends Indexed>(index: TermIndex<P>, prefix: string): Set<P> {
  const found = new Set<P>();
  for (let i = lowerBound(index.sorted, prefix); i < index.sorted.length && index.sorted[i].term.startsWith(prefix); i++)
    if (live(index.sorted[i])) found.add(index.sorted[i].person);
  for (const e of index.recent) if (e.term.startsWith(prefix) && live(e)) found.add(e.person);
  return found;
}

/** Whether a term of the person starts with `prefix` (the scan's test). */
export const hasPrefix = (person: Indexed, prefix: string): boolean => person.terms.some((t) => t.startsWith(prefix));
