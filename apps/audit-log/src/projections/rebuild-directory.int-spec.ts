import type { Db, MongoClient } from 'mongodb';
import { testDatabaseName, testMongo } from '@app/testing';
import { directoryCollection } from './audit.projection';
import { dropCollection, writeDirectory } from './rebuild';

/**
 * A rebuild writes its directory after dropping it; the live projection's last batch may still write records
 * in between (its stop is bounded): the rebuilt records win and the rebuild does not fail on the duplicates.
 */
describe('audit rebuild: writing the directory (FerretDB)', () => {
  let mongo: MongoClient;
  let db: Db;
  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('rebuild-directory'));
  });
  afterAll(async () => mongo.close());

  it('records written meanwhile are replaced by the rebuilt ones; the others are inserted', async () => {
    await directoryCollection(db).insertOne({ _id: 'u1', kind: 'user', name: 'old name', orgs: [] });
    await writeDirectory(db, [
      { _id: 'u1', kind: 'user', name: 'ann', orgs: ['o1'] },
      { _id: 'u2', kind: 'user', name: 'bob', orgs: ['o1'] },
      { _id: 'o1', kind: 'organization', name: 'Acme' },
    ]);
    const all = await directoryCollection(db).find({}).sort({ _id: 1 }).toArray();
    expect(all).toEqual([
      { _id: 'o1', kind: 'organization', name: 'Acme' },
      { _id: 'u1', kind: 'user', name: 'ann', orgs: ['o1'] },
      { _id: 'u2', kind: 'user', name: 'bob', orgs: ['o1'] },
    ]);
  });

  it('dropping a collection that does not exist is not an error; an existing one is gone', async () => {
    const missing = db.collection(`missing_${Date.now()}`);
    await expect(dropCollection(missing)).resolves.toBeUndefined();
    const present = db.collection(`present_${Date.now()}`);
    await present.insertOne({ _id: 1 } as never);
    await dropCollection(present);
    expect(await db.listCollections({ name: present.collectionName }).toArray()).toEqual([]);
  });

  it('a drop that fails is tried again, and its error is thrown once the tries are spent', async () => {
    const failing = (failures: number) => {
      let calls = 0;
      return { calls: () => calls, drop: async () => (++calls <= failures ? Promise.reject(Object.assign(new Error('table busy'), { code: 1 })) : true) };
    };
    const once = failing(1);
    await dropCollection(once);
    expect(once.calls()).toBe(2);
    const always = failing(Infinity);
    await expect(dropCollection(always)).rejects.toThrow('table busy');
    expect(always.calls()).toBe(3);
  });
});
