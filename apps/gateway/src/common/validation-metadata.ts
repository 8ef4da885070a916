import { getMetadataStorage } from 'class-validator';
import type { MetadataStorage } from 'class-validator/types/metadata/MetadataStorage';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

type Lookup = MetadataStorage['getTargetValidationMetadatas'];

/**
 * class-validator (0.14, and 0.15 still) looks up a class's rules on every validation, twice a body with Nest's
 * ValidationPipe, and each look-up tests the class against every class that has rules (`instanceof`, for inherited
 * rules): about a tenth of the gateway's CPU on a small POST such as the permission check. The rules only change
 * when a decorator runs (a module loads), so the answers are kept per class and options until then: any new rule
 * drops them all. The returned arrays are only read by class-validator and Nest.
 */
export function keepValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  if ((storage as { kept?: true }).kept) return;
  const lookup: Lookup = storage.getTargetValidationMetadatas.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let kept = new Map<Parameters<Lookup>[0], Map<string, ValidationMetadata[]>>();
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\0${always}\0${strictGroups}\0${groups?.join('\0') ?? ''}`;
    let byOptions = kept.get(target);
    if (!byOptions) kept.set(target, (byOptions = new Map()));
    let found = byOptions.get(key);
    if (!found) byOptions.set(key, (found = lookup(target, schema, always, strictGroups, groups)));
    return found;
  };
  storage.addValidationMetadata = (metadata) => {
    kept = new Map();
    add(metadata);
  };
  Object.assign(storage, { kept: true });
}
