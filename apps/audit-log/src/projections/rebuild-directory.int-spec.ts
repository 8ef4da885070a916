import type { Db, MongoClient } from 'mongodb';
import { testDatabaseName, testMongo } from '@app/testing';
import { directoryCollection } from './audit.projection';
import { writeDirectory } from './rebuild';

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
});
