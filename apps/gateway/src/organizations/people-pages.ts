import { peoplePagesChangedBy, type CatalogueEvent } from '@app/contracts';

interface Page {
  organizationId: string;
  json: Buffer;
  /** the read index of the request it answered: the page reflects the events stream at least up to there */
  readIndex: number;
}

/**
 * People pages as membership answered them, kept by the gateway (docs/architecture.md "People pages kept at
 * the gateway"). A page answered a request whose read index was R: membership built it from a model that had
 * applied the events stream at least up to R. It stays good for a later request as long as no event after R
 * may have changed the organization's pages, which this gateway knows once its consumer applied the later
 * request's read index (the guards wait for that): `changedAt` is, per organization, the sequence of the
 * last such event the consumer applied. A request naming writes of its own (consistency tokens) is not
 * answered from here: membership waits for those.
 */
export class PeoplePages {
  private readonly pages = new Map<string, Page>();
  private readonly changedAt = new Map<string, number>();
  /** the last event that may have changed every organization's pages */
  private allChangedAt = 0;
  private bytes = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** Every event the gateway's consumer applies, in stream order (`undefined`: not read, changes no page). */
  ingest(event: CatalogueEvent | undefined, sequence: number): void {
    let changed: string | undefined;
    try {
      changed = event && peoplePagesChangedBy(event);
    } catch {
      changed = 'all'; // never in the way of the token cache, which the same consumer feeds
    }
    if (changed === 'all') this.allChangedAt = sequence;
    else if (changed !== undefined) this.changedAt.set(changed, sequence);
  }

  /** The page kept under `key`, if nothing may have changed it since the request it answered. */
  get(key: string): Buffer | undefined {
    const page = this.pages.get(key);
    if (!page) return undefined;
    if (page.readIndex < this.allChangedAt || page.readIndex < (this.changedAt.get(page.organizationId) ?? 0)) {
      this.drop(key, page);
      return undefined;
    }
    return page.json;
  }

  /** Keeps membership's answer to a request whose read index was `readIndex`; the oldest pages go past `maxBytes`. */
  put(key: string, organizationId: string, json: Buffer, readIndex: number): void {
    if (json.length > this.maxBytes / 4) return;
    const old = this.pages.get(key);
    if (old) this.drop(key, old);
    this.pages.set(key, { organizationId, json, readIndex });
    this.bytes += json.length;
    for (const [k, page] of this.pages) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(k, page);
    }
  }

  private drop(key: string, page: Page): void {
    this.pages.delete(key);
    this.bytes -= page.json.length;
  }
}
