/**
 * `kill -9` of a process that is persisting: a child appends to 16 ledgers
 * at once (group commits of many actors), the test kills it with SIGKILL
 * after a seeded number of acknowledgements, starts it again to write some
 * more, kills it again, then reads every ledger back. Every acknowledged
 * entry must be there, each once, in order, with no gap. The second suite
 * kills a process driving the SQLite backend with a tiny merge threshold, so
 * the kill lands while rows sit in the log, copied into the table or not.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../examples/actors/random.js';

const child = fileURLToPath(new URL('../dist/test/fixtures/durable-child.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'troupe-kill-'));
const kLedgers = 16;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until `acks` acknowledgements, then SIGKILL; returns the highest acknowledged id per ledger. */
async function writeThenKill(db: string, acks: number, acked: number[]): Promise<void> {
  const proc = spawn(process.execPath, [child, 'write', db, String(kLedgers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
  let seen = 0;
  for await (const line of createInterface({ input: proc.stdout! })) {
    const [word, ledger, id] = line.split(' ');
    if (word !== 'ack') continue;
    acked[Number(ledger)] = Math.max(acked[Number(ledger)], Number(id));
    if (++seen === acks) proc.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');
}

async function readBack(db: string): Promise<number[][]> {
  const proc = spawn(process.execPath, [child, 'read', db, String(kLedgers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of proc.stdout!) out += chunk;
  return JSON.parse(out) as number[][];
}

describe('kill -9 of a persisting process', () => {
  it.each([1, 2, 3])('seed %i: every acknowledged entry survives two SIGKILLs, once each, in order', async (seed) => {
    const next = seededRandom(seed);
    const db = join(dir, `seed-${seed}.db`);
    const acked = new Array<number>(kLedgers).fill(0);
    await writeThenKill(db, 100 + Math.floor(next() * 900), acked);
    await writeThenKill(db, 100 + Math.floor(next() * 900), acked);
    const ledgers = await readBack(db);
    expect(ledgers).toHaveLength(kLedgers);
    ledgers.forEach((ids, i) => {
      // 1..n exactly: no entry lost (a gap), none applied twice (a repeat).
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => k + 1));
      // The kill may land between a commit and its ack being printed: n can exceed the acks, never fall short.
      expect(ids.length).toBeGreaterThanOrEqual(acked[i]);
      expect(ids.length).toBeLessThanOrEqual(acked[i] + 1);
    });
    expect(acked.reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
  });
});

const journalChild = fileURLToPath(new URL('../dist/test/fixtures/sqlite-journal-child.js', import.meta.url));
const kJournals = 12;

describe('kill -9 while the SQLite log is being merged', () => {
  it.each([1, 2, 3])('seed %i: rows in the log at the kill are recovered once each, in order, after two SIGKILLs', async (seed) => {
    const next = seededRandom(seed + 10);
    const db = join(dir, `merge-${seed}.db`);
    let acked = 0;
    for (let kill = 0; kill < 2; kill++) {
      const proc = spawn(process.execPath, [journalChild, 'write', db, String(kJournals)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
      const acks = 30 + Math.floor(next() * 200);
      let seen = 0;
      for await (const line of createInterface({ input: proc.stdout! })) {
        if (!line.startsWith('ack ')) continue;
        acked++;
        if (++seen === acks) proc.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');
    }
    // What the kill left: rows still in the log, which only the open's merge brings into the table.
    const raw = new Database(db, { readonly: true });
    const inLog = raw.prepare('SELECT count(*) FROM troupe_log').pluck().get() as number;
    raw.close();
    expect(inLog).toBeGreaterThan(0);
    const proc = spawn(process.execPath, [journalChild, 'read', db, String(kJournals)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    for await (const chunk of proc.stdout!) out += chunk;
    const journals = JSON.parse(out) as number[][];
    for (const seqs of journals) {
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1));
      // Every journal got one event per batch; the kill may land between a commit and its ack.
      expect(seqs.length).toBeGreaterThanOrEqual(acked);
      expect(seqs.length).toBeLessThanOrEqual(acked + 2);
    }
  });
});
