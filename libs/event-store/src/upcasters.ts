import type { DomainEvent } from '@app/contracts';

/** Turns version N of an event type into version N+1. */
export type Upcaster = (event: DomainEvent) => DomainEvent;

/**
 * Old event versions stay readable forever: reading applies upcasters until the newest version, so the log
 * is never rewritten and deciders/projections only know the current shape.
 */
export class UpcasterRegistry {
  private readonly map = new Map<string, Upcaster>();

  register(type: string, fromVersion: number, upcast: Upcaster): this {
    this.map.set(`${type}.v${fromVersion}`, upcast);
    return this;
  }

  upcast(event: DomainEvent): DomainEvent {
    let current = event;
    for (let next = this.map.get(`${current.type}.v${current.version}`); next; ) {
      const before = current.version;
      current = next(current);
      if (current.version <= before) throw new Error(`upcaster of ${current.type}.v${before} did not raise the version`);
      next = this.map.get(`${current.type}.v${current.version}`);
    }
    return current;
  }
}

export const noUpcasters = new UpcasterRegistry();
