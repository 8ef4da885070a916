import type { Collection, Db } from 'mongodb';

/**
 * Prefix index for people search, navigated by `_id` look-ups only (FerretDB v1 pushes nothing else down).
 * One node per organization and prefix of 1 to SEARCH_PREFIX_MAX characters of a search term: the people
 * (position key + their terms with that prefix) in join order, while there are at most SEARCH_NODE_CAP of
 * them. `n` counts every match, so a node is complete exactly when `n === e.length`; a search whose node
 * overflowed matches so many people that scanning the organization's collection finds a page quickly.
 */
export const SEARCH_PREFIX_MAX = 6;
export const SEARCH_NODE_CAP = 2000;
/**
 * Above this many matches the caller scans instead of looking the matches up one by one: on FerretDB v1 a
 * look-up by `_id` costs a table scan in SQLite (~1 µs a row), while a scan in `_id` order that stops at the
 * page's end decodes ~1 in (rows / matches) rows (~100 µs each); with MongoDB both are index accesses.
 */
export const SEARCH_LOOKUP_MAX = 200;

export interface SearchNode {
  _id: string;
  n: number;
  /** `<position key>\t<the person's terms with this prefix, joined by \t>` (FerretDB stores no nested arrays) */
  e: string[];
}

const keyOf = (entry: string): string => entry.slice(0, entry.indexOf('\t'));

/** one collection per organization: on FerretDB v1 (SQLite) even an `_id` look-up reads the whole table */
export const searchNodes = (db: Db, organizationId: string): Collection<SearchNode> => db.collection<SearchNode>(`people_search_${organizationId}`);
export const searchNodeId = (_organizationId: string, prefix: string): string => prefix;

/** prefix → the terms having it */
export function prefixesOf(terms: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const term of terms)
    for (let l = 1; l <= Math.min(SEARCH_PREFIX_MAX, term.length); l++) {
      const p = term.slice(0, l);
      const list = out.get(p) ?? [];
      if (!list.includes(term)) list.push(term);
      out.set(p, list);
    }
  return out;
}

/**
 * The node of `prefix` with the person added (`terms`: theirs with that prefix), or undefined when it holds them
 * already (idempotent). Past SEARCH_NODE_CAP, or once a node has overflowed, only `n` counts them.
 */
export function withPerson(node: SearchNode | null, prefix: string, key: string, terms: string[]): SearchNode | undefined {
  const entry = [key, ...terms].join('\t');
  if (!node) return { _id: prefix, n: 1, e: [entry] };
  if (node.e.some((x) => keyOf(x) === key)) return undefined;
  if (node.n === node.e.length && node.e.length < SEARCH_NODE_CAP) return { ...node, n: node.n + 1, e: [...node.e, entry] };
  return { ...node, n: node.n + 1 };
}

/** The node without the person (its count one lower). */
export function withoutPerson(node: SearchNode, key: string): SearchNode {
  return { ...node, e: node.e.filter((x) => keyOf(x) !== key), n: Math.max(0, node.n - 1) };
}

/** Nodes of many people at once (bulk seeding), built exactly as indexPerson would, people in key order. */
export function buildSearchNodes(organizationId: string, people: Array<{ _id: string; search: string[] }>): SearchNode[] {
  const nodes = new Map<string, SearchNode>();
  for (const p of people)
    for (const [prefix, ts] of prefixesOf(p.search)) {
      const _id = searchNodeId(organizationId, prefix);
      const node = nodes.get(_id) ?? { _id, n: 0, e: [] };
      if (node.n === node.e.length && node.e.length < SEARCH_NODE_CAP) node.e.push([p._id, ...ts].join('\t'));
      node.n++;
      nodes.set(_id, node);
    }
  return [...nodes.values()];
}

/**
 * Position keys of the people matching `search` after `afterKey`, in order, when the index knows them all
 * and they are few; undefined when the prefix matches many (the caller scans, which finds a page quickly).
 */
export async function searchCandidates(db: Db, organizationId: string, search: string, afterKey: string): Promise<string[] | undefined> {
  const node = await searchNodes(db, organizationId).findOne({ _id: searchNodeId(organizationId, search.slice(0, SEARCH_PREFIX_MAX)) });
  if (!node) return [];
  if (node.n !== node.e.length) return undefined;
  const keys = node.e
    .map((x) => x.split('\t'))
    .filter(([k, ...ts]) => k > afterKey && ts.some((t) => t.startsWith(search)))
    .map(([k]) => k)
    .sort();
  return keys.length > SEARCH_LOOKUP_MAX ? undefined : keys;
}
