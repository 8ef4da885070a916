import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { testDatabaseName, testMongo } from '@app/testing';
import { Lease } from './lease';

/** The lease on a real MongoDB-wire server (FerretDB here): concurrent takers of a lease nobody holds yet. */
describe('Lease (FerretDB)', () => {
  let mongo: MongoClient;
  let db: Db;

  beforeAll(async () => {
    mongo = await testMongo();
    db = mongo.db(testDatabaseName('lease'));
  });
  afterAll(async () => {
    await mongo.close();
  });

  it('steal, raced by other steals and renewals of a lease that does not exist yet, never fails and leaves one owner', async () => {
    for (let round = 0; round < 15; round++) {
      const name = `race-${randomUUID()}`;
      const stealers = Array.from({ length: 4 }, () => new Lease(db, name, randomUUID()));
      const renewer = new Lease(db, name, randomUUID());
      const outcomes = await Promise.allSettled([...stealers.map((l) => l.steal()), renewer.acquire(), renewer.acquire()]);
      expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
      const docs = await db
        .collection('projection_leases')
        .find({ _id: name as never })
        .toArray();
      expect(docs).toHaveLength(1);
      expect([...stealers, renewer].map((l) => l.owner)).toContain(docs[0].owner);
    }
  });

  it('acquire: taken when free, renewed by its owner, refused to another until it expires; release frees it', async () => {
    const name = `lease-${randomUUID()}`;
    const a = new Lease(db, name, 'a', 300);
    const b = new Lease(db, name, 'b', 300);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.acquire()).toBe(true); // a's expired
    expect(await b.steal()).toBe('b'); // held (by b itself, unexpired): steal names the previous owner
    await b.release();
    expect(await a.acquire()).toBe(true);
  });
});
