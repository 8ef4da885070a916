import { getMetadataStorage, IsInt, IsString, MetadataStorage, validate } from 'class-validator';
import { keepValidationMetadata } from './validation-metadata';

class Base {
  @IsString() name: unknown;
}
class Derived extends Base {
  @IsInt() count: unknown;
}

const storage = getMetadataStorage();
/** class-validator's own look-up, never kept */
const fresh = (target: new () => object, groups?: string[]) =>
  MetadataStorage.prototype.getTargetValidationMetadatas.call(storage, target, '', false, false, groups);
const rules = (list: Array<{ propertyName: string; name?: string }>) => list.map((m) => `${m.propertyName}:${m.name}`).sort();

describe('keepValidationMetadata (class-validator look-ups kept per class)', () => {
  beforeAll(() => keepValidationMetadata(storage));

  it('answers what class-validator answers, inherited rules included, and keeps the answer', () => {
    for (const target of [Base, Derived]) {
      const kept = storage.getTargetValidationMetadatas(target, '', false, false);
      expect(rules(kept)).toEqual(rules(fresh(target)));
      // the same array again: class-validator alone builds a new one each time (scanning every class with rules)
      expect(storage.getTargetValidationMetadatas(target, '', false, false)).toBe(kept);
    }
    expect(rules(storage.getTargetValidationMetadatas(Derived, '', false, false))).toEqual(['count:isInt', 'name:isString']);
  });

  it('keeps answers apart per options (groups)', () => {
    const plain = storage.getTargetValidationMetadatas(Base, '', false, false);
    const grouped = storage.getTargetValidationMetadatas(Base, '', false, false, ['admin']);
    expect(grouped).not.toBe(plain);
    expect(rules(grouped)).toEqual(rules(fresh(Base, ['admin'])));
  });

  it('sees a rule added after a look-up, to the class or to a subclass declared later', () => {
    const before = storage.getTargetValidationMetadatas(Base, '', false, false);
    IsString()(Base.prototype, 'nickname');
    expect(rules(storage.getTargetValidationMetadatas(Base, '', false, false))).toEqual([...rules(before), 'nickname:isString'].sort());
    class Later extends Base {
      @IsInt() size: unknown;
    }
    expect(rules(storage.getTargetValidationMetadatas(Later, '', false, false))).toEqual(rules(fresh(Later)));
  });

  it('validates as before', async () => {
    const ok = Object.assign(new Derived(), { name: 'a', count: 1, nickname: 'b' });
    const bad = Object.assign(new Derived(), { name: 1, count: 'x', nickname: 'b' });
    expect(await validate(ok)).toEqual([]);
    expect((await validate(bad)).map((e) => e.property).sort()).toEqual(['count', 'name']);
  });
});
