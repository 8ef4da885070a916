import { UUID_PATTERN } from '../common/path-id.pipe';
import { SLUG_PATTERN } from '../organizations/organizations.dto';

/** The gateway's slug → organization id entries; about 100 bytes each. */
export const SLUG_CACHE_MAX = 10_000;

/**
 * What the gateway knows of organization slugs: slug → id, learned from membership's answers. An entry is
 * never stale (a slug is claimed once, for good: organizations are neither renamed nor deleted), so the map
 * only needs a bound: past `max` entries the oldest is forgotten (and learned again when asked for).
 */
export class SlugCache {
  private readonly ids = new Map<string, string>();

  constructor(private readonly max = SLUG_CACHE_MAX) {}

  get(slug: string): string | undefined {
    return this.ids.get(slug);
  }

  remember(slug: string, id: string): void {
    if (this.ids.has(slug)) return;
    if (this.ids.size >= this.max) this.ids.delete(this.ids.keys().next().value!);
    this.ids.set(slug, id);
  }

  get size(): number {
    return this.ids.size;
  }
}

/**
 * The organization id a `{org}` path segment names: a UUID is an id (lowercased); a slug is looked up in
 * `cache`, and on a miss in the caller's own organizations (`mine`, membership's answer, whose entries are all
 * remembered). Anything else, or a slug of no organization of the caller's, names nothing: undefined (404).
 * A slug cached by someone else's request resolves for anyone; the permission check that follows answers 404
 * to a non-member, as for an id.
 */
export async function resolveOrganization(
  value: unknown,
  cache: SlugCache,
  mine: () => Promise<Array<{ id: string; slug: string }>>,
): Promise<string | undefined> {
  if (typeof value !== 'string') return undefined;
  if (UUID_PATTERN.test(value)) return value.toLowerCase();
  const slug = value.toLowerCase();
  if (!SLUG_PATTERN.test(slug)) return undefined;
  const known = cache.get(slug);
  if (known) return known;
  for (const o of await mine()) cache.remember(o.slug, o.id);
  return cache.get(slug);
}
