/**
 * The durable-actor contract, run against both stores: a real SQLite file
 * and a real PostgreSQL server (started on loopback with a temporary data
 * directory by test/pg-server.ts). Corruption is written into the store with
 * its own client, as a disk or an operator would leave it.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kInternals, type ActorSystem } from 'troupe';
import { postgresStore, sqliteStore, type StoreSpec } from 'troupe/persistence';
import { fixture, startSystem } from './helpers.js';
import { startPostgres, type PgServer } from '../bench/pg-server.js';
import { openPostgres } from '../dist/src/persistence/postgres-backend.js';

interface StoreUnderTest {
  name: string;
  /** A fresh, empty journal. */
  fresh(): StoreSpec;
  /** Runs SQL against the journal `spec` points at (test-side corruption and inspection). */
  sql(spec: StoreSpec, text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

const dir = mkdtempSync(join(tmpdir(), 'troupe-persistence-'));
let server: PgServer;
let serial = 0;

const stores: StoreUnderTest[] = [
  {
    name: 'sqlite',
    fresh: () => sqliteStore({ path: join(dir, `journal-${++serial}.db`) }),
    async sql(spec, text, params = []) {
      const db = new Database((spec as { path: string }).path);
      try {
        const statement = db.prepare(text.replace(/\$\d+/g, '?'));
        return statement.reader ? (statement.all(...params) as Record<string, unknown>[]) : (statement.run(...params), []);
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'postgres',
    fresh: () => postgresStore({ connectionString: server.connectionString, schema: `journal_${++serial}` }),
    async sql(spec, text, params = []) {
      const client = new pg.Client({ connectionString: server.connectionString });
      await client.connect();
      try {
        await client.query(`SET search_path TO ${(spec as { schema: string }).schema}`);
        return (await client.query(text, params)).rows;
      } finally {
        await client.end();
      }
    },
  },
];

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function withSystem<T>(store: StoreSpec, run: (system: ActorSystem) => Promise<T>): Promise<T> {
  const system = await startSystem({ store });
  try {
    return await run(system);
  } finally {
    await system.shutdown();
  }
}

const account = fixture('account');

describe.each(stores)('durable actors on $name', (store) => {
  it('recovers events and snapshots when the system starts again, before the first message', async () => {
    const spec = store.fresh();
    await withSystem(spec, async (system) => {
      const acct = await system.spawn(account, { name: 'acct' });
      for (let i = 1; i <= 23; i++) expect(await acct.ask({ type: 'deposit', amount: i })).toBe((i * (i + 1)) / 2);
      expect(await acct.ask({ type: 'deposit-many', amounts: [1, 2, 3] })).toBe(282);
    });
    // snapshotEvery 10: snapshots at 10 and 20; 26 events.
    const snapshots = await store.sql(spec, 'SELECT seq FROM troupe_snapshots WHERE pid = $1 ORDER BY seq', ['acct']);
    expect(snapshots.map((row) => Number(row.seq))).toEqual([10, 20]);
    await withSystem(spec, async (system) => {
      const acct = await system.spawn(account, { name: 'acct' });
      // applied counts what the state saw: 20 from the snapshot plus a replay of 6.
      expect(await acct.ask({ type: 'get' })).toEqual({ balance: 282, applied: 26 });
      expect(await acct.ask({ type: 'deposit', amount: 18 })).toBe(300);
    });
  });

  it('a handler that throws after persisting loses nothing; messages sent meanwhile wait, in order', async () => {
    await withSystem(store.fresh(), async (system) => {
      const acct = await system.spawn(account, { name: 'thrower', persistenceId: 'acct-thrower' });
      await acct.ask({ type: 'deposit', amount: 5 });
      const crashed = acct.ask({ type: 'persist-then-throw', amount: 10 });
      const later = Array.from({ length: 20 }, () => acct.ask<number>({ type: 'deposit', amount: 1 }));
      await expect(crashed).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_CRASHED' });
      // Restarted from its journal (5 + 10), then the deposits in the order sent.
      expect(await Promise.all(later)).toEqual(Array.from({ length: 20 }, (_, i) => 16 + i));
      expect(await acct.ask({ type: 'get' })).toEqual({ balance: 35, applied: 22 });
    });
  });

  it('an event that cannot be stored is refused typed, and nothing of it is applied', async () => {
    await withSystem(store.fresh(), async (system) => {
      const acct = await system.spawn(account, { name: 'strict' });
      await acct.ask({ type: 'deposit', amount: 3 });
      const crash = system.events.waitFor('actor.crashed', (e) => e.id === acct.id);
      acct.tell({ type: 'persist-unencodable' });
      const crashed = await crash;
      expect(crashed.error.code).toBe('TROUPE_ERR_UNENCODABLE');
      expect(await acct.ask({ type: 'get' })).toEqual({ balance: 3, applied: 1 });
    });
  });

  it('two incarnations of one journal: the second append is refused with TROUPE_ERR_PERSISTENCE_CONFLICT, never a fork', async () => {
    const spec = store.fresh();
    await withSystem(spec, async (system) => {
      const a = await system.spawn(account, { name: 'a', persistenceId: 'shared' });
      const b = await system.spawn(account, { name: 'b', persistenceId: 'shared' });
      expect(await a.ask({ type: 'deposit', amount: 1 })).toBe(1);
      const refused = await b.ask({ type: 'deposit', amount: 100 }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'TROUPE_ERR_ACTOR_CRASHED', cause: { code: 'TROUPE_ERR_PERSISTENCE_CONFLICT' } });
      // b restarted from the journal a wrote, and appends after it.
      expect(await b.ask({ type: 'get' })).toEqual({ balance: 1, applied: 1 });
      expect(await b.ask({ type: 'deposit', amount: 2 })).toBe(3);
    });
    const rows = await store.sql(spec, 'SELECT seq, data FROM troupe_events WHERE pid = $1 ORDER BY seq', ['shared']);
    expect(rows.map((row) => Number(row.seq))).toEqual([1, 2]);
  });

  it('a corrupt event or snapshot stops that actor from starting with a typed error naming journal and sequence number; others run', async () => {
    const spec = store.fresh();
    await withSystem(spec, async (system) => {
      const bad = await system.spawn(account, { name: 'bad' });
      const good = await system.spawn(account, { name: 'good' });
      for (let i = 0; i < 13; i++) await bad.ask({ type: 'deposit', amount: 1 });
      await good.ask({ type: 'deposit', amount: 7 });
    });
    // A flipped byte in event 12 (after the snapshot at 10): the checksum catches it.
    await store.sql(spec, 'UPDATE troupe_events SET crc = crc + 1 WHERE pid = $1 AND seq = $2', ['bad', 12]);
    await withSystem(spec, async (system) => {
      await expect(system.spawn(account, { name: 'bad' })).rejects.toMatchObject({ code: 'TROUPE_ERR_PERSISTENCE_CORRUPT', message: expect.stringMatching(/"bad".*sequence number 12/) });
      const good = await system.spawn(account, { name: 'good' });
      expect(await good.ask({ type: 'get' })).toEqual({ balance: 7, applied: 1 });
    });
    // Bytes that are not msgpack, with a checksum that matches them: the decoder catches it.
    const garbage = Buffer.from([0xc1, 0xc1, 0xc1]);
    const { crc32 } = await import('../dist/src/lane/crc32.js');
    await store.sql(spec, 'UPDATE troupe_snapshots SET data = $1, crc = $2 WHERE pid = $3 AND seq = $4', [garbage, crc32(garbage, 0, 3), 'bad', 10]);
    await withSystem(spec, async (system) => {
      await expect(system.spawn(account, { name: 'bad' })).rejects.toMatchObject({ code: 'TROUPE_ERR_PERSISTENCE_CORRUPT', message: expect.stringMatching(/snapshot at sequence number 10.*not msgpack/) });
    });
  });

  it('old events and snapshots are upcast; a record from a newer version stops the actor typed', async () => {
    const spec = store.fresh();
    await withSystem(spec, async (system) => {
      const acct = await system.spawn(account, { name: 'evolving' });
      for (let i = 0; i < 12; i++) await acct.ask({ type: 'deposit', amount: 1 });
    });
    await withSystem(spec, async (system) => {
      const v2 = await system.spawn(fixture('account-v2'), { name: 'evolving' });
      // The v1 snapshot at 10 (balance 10) and events 11, 12, upcast to cents.
      expect(await v2.ask({ type: 'get' })).toBe(1200);
      expect(await v2.ask({ type: 'deposit', cents: 50 })).toBe(1250);
    });
    await withSystem(spec, async (system) => {
      await expect(system.spawn(account, { name: 'evolving' })).rejects.toMatchObject({
        code: 'TROUPE_ERR_PERSISTENCE_VERSION',
        message: expect.stringMatching(/"evolving".*sequence number 13 was written by version 2, newer than this code's version 1/),
      });
    });
  });

  it('retention keeps the newest snapshots and deletes the events they cover', async () => {
    const spec = store.fresh();
    await withSystem(spec, async (system) => {
      const counter = await system.spawn(fixture('account-retained'), { name: 'retained' });
      for (let i = 1; i <= 22; i++) expect(await counter.ask({ type: 'inc' })).toBe(i);
    });
    const snapshots = await store.sql(spec, 'SELECT seq FROM troupe_snapshots WHERE pid = $1 ORDER BY seq', ['retained']);
    expect(snapshots.map((row) => Number(row.seq))).toEqual([15, 20]);
    const events = await store.sql(spec, 'SELECT seq FROM troupe_events WHERE pid = $1 ORDER BY seq', ['retained']);
    expect(events.map((row) => Number(row.seq))).toEqual([15, 16, 17, 18, 19, 20, 21, 22]);
    await withSystem(spec, async (system) => {
      const counter = await system.spawn(fixture('account-retained'), { name: 'retained' });
      expect(await counter.ask({ type: 'get' })).toBe(22);
    });
  });

  it('a worker that dies while its actors persist: every acknowledged event survives, none is applied twice', async () => {
    await withSystem(store.fresh(), async (system) => {
      const accounts = await Promise.all(Array.from({ length: 8 }, (_, i) => system.spawn(account, { name: `w-${i}`, host: 0 })));
      const acked = accounts.map(() => 0);
      const streams = accounts.map(async (acct, i) => {
        for (let k = 0; k < 40; k++) {
          try {
            await acct.ask({ type: 'deposit', amount: 1 });
            acked[i]++;
          } catch {
            // Lost with the worker, or refused while it was replaced: unacknowledged.
          }
        }
      });
      const replaced = system.events.waitFor('worker.replaced', undefined, { timeoutMs: 20_000 });
      await accounts[0].ask({ type: 'deposit', amount: 1 });
      acked[0]++;
      system[kInternals].inflict(0, { kind: 'exit', code: 1 });
      await replaced;
      await Promise.all(streams);
      for (let i = 0; i < accounts.length; i++) {
        const { balance, applied } = await accounts[i].ask<{ balance: number; applied: number }>({ type: 'get' });
        expect(balance).toBe(applied);
        expect(balance).toBeGreaterThanOrEqual(acked[i]);
        expect(balance).toBeLessThanOrEqual(i === 0 ? 41 : 40);
      }
    });
  });
});

describe('journal faults and configuration', () => {
  it('a durable actor in a system without a store is refused typed', async () => {
    const system = await startSystem();
    try {
      await expect(system.spawn(account, { name: 'nowhere' })).rejects.toMatchObject({ code: 'TROUPE_ERR_PERSISTENCE_NOT_CONFIGURED' });
    } finally {
      await system.shutdown();
    }
  });

  it('a durable actor without a name or persistenceId is refused typed', async () => {
    await withSystem(stores[0].fresh(), async (system) => {
      await expect(system.spawn(account)).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT', message: expect.stringMatching(/name or a persistenceId/) });
    });
  });

  it('a store that cannot be opened or reached fails the start with TROUPE_ERR_PERSISTENCE_STORE', async () => {
    await expect(startSystem({ store: sqliteStore({ path: join(dir, 'no-such-dir', 'x.db') }) })).rejects.toMatchObject({ code: 'TROUPE_ERR_PERSISTENCE_STORE' });
    await expect(startSystem({ store: postgresStore({ connectionString: 'postgres://troupe@127.0.0.1:1/postgres', connectTimeoutMs: 2000 }) })).rejects.toMatchObject({
      code: 'TROUPE_ERR_PERSISTENCE_STORE',
      message: expect.stringMatching(/unreachable/),
    });
    expect(() => sqliteStore({ path: '' })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION' }));
    expect(() => postgresStore({ connectionString: 'mysql://x' })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION' }));
    await expect(startSystem({ store: { kind: 'redis' } as never })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION' });
  });

  it('processes that open one new PostgreSQL journal at the same moment all open it (the tables are created once, under a lock)', async () => {
    // CREATE ... IF NOT EXISTS from several sessions at once races in PostgreSQL (unique_violation 23505 on its
    // catalogue): the nodes of a cluster starting together on a shared journal met exactly that.
    for (let round = 0; round < 3; round++) {
      const spec = postgresStore({ connectionString: server.connectionString, schema: `journal_race_${round}` }) as Parameters<typeof openPostgres>[0];
      const opened = await Promise.allSettled(Array.from({ length: 8 }, () => openPostgres(spec)));
      const failed = opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
      await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
      expect(failed).toEqual([]);
    }
  });

  it('a locked SQLite journal: persist rejects with TROUPE_ERR_PERSISTENCE_STORE, nothing is applied, and the actor recovers once it is free', async () => {
    const path = join(dir, 'locked.db');
    await withSystem(sqliteStore({ path, busyTimeoutMs: 50 }), async (system) => {
      const acct = await system.spawn(account, { name: 'locked' });
      expect(await acct.ask({ type: 'deposit', amount: 4 })).toBe(4);
      const locker = new Database(path);
      locker.exec('BEGIN EXCLUSIVE');
      try {
        const refused = await acct.ask({ type: 'deposit', amount: 100 }).catch((error: unknown) => error);
        expect(refused).toMatchObject({ code: 'TROUPE_ERR_ACTOR_CRASHED', cause: { code: 'TROUPE_ERR_PERSISTENCE_STORE' } });
      } finally {
        locker.exec('ROLLBACK');
        locker.close();
      }
      expect(await acct.ask({ type: 'get' })).toEqual({ balance: 4, applied: 1 });
      expect(await acct.ask({ type: 'deposit', amount: 1 })).toBe(5);
    });
  });
});
