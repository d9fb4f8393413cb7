/**
 * The journal in PostgreSQL, for processes and machines that share one: the
 * same two tables as SQLite's, written by one connection of the journal
 * thread. A batch is one transaction of a few statements whatever its size
 * (arrays unnested server-side), committed with the server's default
 * `synchronous_commit = on`: a resolved `persist` is on the server's disk.
 */
import pg from 'pg';
import { PersistenceConflictError, PersistenceStoreError, errorToWire, type WireError } from '../errors.js';
import type { JournalBackend } from './backend.js';
import type { AppendRequest, LoadedJournal, StoredRecord } from './journal-protocol.js';
import type { StoreSpec } from './store-spec.js';

type PostgresSpec = Extract<StoreSpec, { kind: 'postgres' }>;

interface Row {
  pid: string;
  seq: string;
  version: number;
  crc: string;
  data: Buffer;
}

export async function openPostgres(spec: PostgresSpec): Promise<JournalBackend> {
  const client = new pg.Client({ connectionString: spec.connectionString, connectionTimeoutMillis: spec.connectTimeoutMs });
  // A connection lost between batches must not take the thread down: the next batch fails typed and reconnects.
  let broken: Error | undefined;
  client.on('error', (error) => (broken = error));
  try {
    await client.connect();
  } catch (error) {
    throw new PersistenceStoreError(`PostgreSQL is unreachable: ${(error as Error).message}`, { cause: error });
  }
  const s = spec.schema;
  const events = `"${s}".troupe_events`;
  const snapshots = `"${s}".troupe_snapshots`;
  try {
    // CREATE ... IF NOT EXISTS is not safe from several sessions at once (two can both find the name free and one
    // fails with unique_violation on the catalogue): processes starting together on one journal take turns, under a
    // transaction-scoped advisory lock keyed by the schema.
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`troupe.journal-schema:${s}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${s}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${events} (pid text NOT NULL, seq bigint NOT NULL, version integer NOT NULL, crc bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY (pid, seq))`,
    );
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${snapshots} (pid text NOT NULL, seq bigint NOT NULL, version integer NOT NULL, crc bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY (pid, seq))`,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
    throw storeFault('create the journal tables', error);
  }

  let current = client;
  async function connection(): Promise<pg.Client> {
    if (broken === undefined) return current;
    await current.end().catch(() => undefined);
    const next = new pg.Client({ connectionString: spec.connectionString, connectionTimeoutMillis: spec.connectTimeoutMs });
    next.on('error', (error) => (broken = error));
    await next.connect();
    broken = undefined;
    current = next;
    return next;
  }

  async function appendAll(db: pg.Client, requests: AppendRequest[]): Promise<(number | undefined)[]> {
    const conflicts: (number | undefined)[] = requests.map(() => undefined);
    // The snapshot guard (see sqlite-backend.ts): no write below a newer snapshot.
    const pids = requests.filter((r) => r.prunes).map((r) => r.pid);
    const guards =
      pids.length === 0 ? [] : (await db.query<{ pid: string; seq: string }>(`SELECT pid, max(seq) AS seq FROM ${snapshots} WHERE pid = ANY($1::text[]) GROUP BY pid`, [pids])).rows;
    const guardOf = new Map(guards.map((row) => [row.pid, Number(row.seq)]));
    const p: string[] = [], q: number[] = [], v: number[] = [], c: number[] = [], d: Buffer[] = [];
    const owner = new Map<string, number>();
    requests.forEach((request, i) => {
      const guard = guardOf.get(request.pid);
      if (guard !== undefined && guard >= request.firstSeq) {
        conflicts[i] = request.firstSeq;
        return;
      }
      request.events.forEach((event, k) => {
        p.push(request.pid);
        q.push(request.firstSeq + k);
        v.push(request.version);
        c.push(request.crcs[k]);
        d.push(Buffer.from(event.buffer, event.byteOffset, event.byteLength));
        owner.set(`${request.pid}\0${request.firstSeq + k}`, i);
      });
    });
    const inserted = await db.query<{ pid: string; seq: string }>(
      `INSERT INTO ${events} (pid, seq, version, crc, data) SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::bigint[], $5::bytea[]) ON CONFLICT DO NOTHING RETURNING pid, seq`,
      [p, q, v, c, d],
    );
    const written = requests.map(() => 0);
    for (const row of inserted.rows) written[owner.get(`${row.pid}\0${row.seq}`)!]++;
    // A request not written whole conflicted: take back what of it was written,
    // and refuse the later appends of the same journal in the batch (a gap).
    const refused = new Set<string>();
    requests.forEach((request, i) => {
      if (conflicts[i] === undefined && refused.has(request.pid)) conflicts[i] = request.firstSeq;
      else if (conflicts[i] === undefined && written[i] !== request.events.length) conflicts[i] = request.firstSeq + written[i];
      if (conflicts[i] !== undefined) refused.add(request.pid);
    });
    if (refused.size > 0) {
      // Only rows this transaction inserted can match: the conflicting ones were never replaced.
      const ours = inserted.rows.filter((row) => conflicts[owner.get(`${row.pid}\0${row.seq}`)!] !== undefined);
      if (ours.length > 0) {
        await db.query(`DELETE FROM ${events} e USING unnest($1::text[], $2::bigint[]) AS u(pid, seq) WHERE e.pid = u.pid AND e.seq = u.seq`, [
          ours.map((row) => row.pid),
          ours.map((row) => row.seq),
        ]);
      }
    }
    for (let i = 0; i < requests.length; i++) {
      const snapshot = requests[i].snapshot;
      if (conflicts[i] !== undefined || snapshot === undefined) continue;
      const pid = requests[i].pid;
      await db.query(
        `INSERT INTO ${snapshots} (pid, seq, version, crc, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pid, seq) DO UPDATE SET version = EXCLUDED.version, crc = EXCLUDED.crc, data = EXCLUDED.data`,
        [pid, snapshot.seq, snapshot.version, snapshot.crc, Buffer.from(snapshot.data.buffer, snapshot.data.byteOffset, snapshot.data.byteLength)],
      );
      if (snapshot.retention !== undefined) {
        await db.query(
          `DELETE FROM ${snapshots} WHERE pid = $1 AND seq < (SELECT seq FROM ${snapshots} WHERE pid = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)`,
          [pid, snapshot.retention.keepSnapshots - 1],
        );
        if (snapshot.retention.deleteEvents) {
          await db.query(`DELETE FROM ${events} WHERE pid = $1 AND seq < (SELECT min(seq) FROM ${snapshots} WHERE pid = $1)`, [pid]);
        }
      }
    }
    return conflicts;
  }

  return {
    async append(requests) {
      let conflicts: (number | undefined)[];
      let db: pg.Client | undefined;
      try {
        db = await connection();
        await db.query('BEGIN');
        conflicts = await appendAll(db, requests);
        await db.query('COMMIT');
      } catch (error) {
        await db?.query('ROLLBACK').catch(() => undefined);
        const wire = errorToWire(storeFault('append', error));
        return requests.map(() => wire);
      }
      return conflicts.map((seq, i): WireError | undefined => (seq === undefined ? undefined : errorToWire(new PersistenceConflictError(requests[i].pid, seq))));
    },
    async load(pids) {
      try {
        const db = await connection();
        const snaps = await db.query<Row>(
          `SELECT DISTINCT ON (pid) pid, seq, version, crc, data FROM ${snapshots} WHERE pid = ANY($1::text[]) ORDER BY pid, seq DESC`,
          [pids],
        );
        const snapshotOf = new Map(snaps.rows.map((row) => [row.pid, record(row)]));
        const after = pids.map((pid) => snapshotOf.get(pid)?.seq ?? 0);
        const rows = await db.query<Row>(
          `SELECT e.pid, e.seq, e.version, e.crc, e.data FROM ${events} e JOIN unnest($1::text[], $2::bigint[]) AS q(pid, after) ON e.pid = q.pid AND e.seq > q.after ORDER BY e.pid, e.seq`,
          [pids, after],
        );
        const eventsOf = new Map<string, StoredRecord[]>();
        for (const row of rows.rows) {
          let list = eventsOf.get(row.pid);
          if (list === undefined) eventsOf.set(row.pid, (list = []));
          list.push(record(row));
        }
        return pids.map((pid): LoadedJournal => ({ snapshot: snapshotOf.get(pid), events: eventsOf.get(pid) ?? [] }));
      } catch (error) {
        const wire = errorToWire(storeFault('read the journal', error));
        return pids.map(() => wire);
      }
    },
    async close() {
      await current.end().catch(() => undefined);
    },
  };
}

function record(row: Row): StoredRecord {
  return { seq: Number(row.seq), version: row.version, crc: Number(row.crc), data: row.data };
}

function storeFault(what: string, error: unknown): PersistenceStoreError {
  if (error instanceof PersistenceStoreError) return error;
  const code = (error as { code?: unknown }).code;
  return new PersistenceStoreError(`PostgreSQL could not ${what}${typeof code === 'string' ? ` (${code})` : ''}: ${(error as Error).message}`, { cause: error });
}
