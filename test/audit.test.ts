/**
 * The audit log: a real file (and a real SQLite store), appended to, read
 * back, tampered with in each of the ways verify must name (altered,
 * removed, inserted, reordered, re-hashed, re-signed with another key), cut
 * short by a crash, and written by a child process killed with SIGKILL.
 */
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditLog, verifyAuditLog, type AuditEntry } from 'troupe/audit';
import { sqliteStore } from 'troupe/persistence';
import { createHash } from 'node:crypto';

const dir = mkdtempSync(join(tmpdir(), 'troupe-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = 'audit-test-key-0123456789abcdef-0123456789';
let serial = 0;
const fresh = (): string => join(dir, `log-${++serial}.jsonl`);
const lines = (path: string): string[] => readFileSync(path, 'utf8').trimEnd().split('\n');
const entries = (path: string): AuditEntry[] => lines(path).map((line) => JSON.parse(line) as AuditEntry);
const rewrite = (path: string, next: string[]): void => writeFileSync(path, `${next.join('\n')}\n`);

/** A closed log of `count` entries of type `test.event` (plus its own audit.opened and checkpoints). */
async function written(count: number, checkpointEvery = 4): Promise<string> {
  const path = fresh();
  const audit = createAuditLog({ path, key, checkpointEvery });
  for (let i = 0; i < count; i++) audit.append({ type: 'test.event', actor: `user-${i}`, subject: 'thing', detail: { i, nested: { b: 2, a: [1, 'x', null, true] } } });
  await audit.close();
  return path;
}

/** Sorted keys at every level: the canonical form, as an attacker would write it (for the values these tests use). */
const sorted = (value: unknown): unknown =>
  value === null || typeof value !== 'object' ? value : Array.isArray(value) ? value.map(sorted) : Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]));
const canonical = (entry: AuditEntry): string => JSON.stringify(sorted(entry));

/** The same canonical hash the log computes, for an attacker who re-hashes what they altered. */
function rehash(entry: AuditEntry): AuditEntry {
  const { hash: _h, sig: _s, ...rest } = entry;
  return { ...entry, hash: createHash('sha256').update(JSON.stringify(sorted(rest))).digest('hex') };
}

describe('audit log: writing and reading back', () => {
  it('chains every entry, signs a checkpoint every N, and a clean close signs to the end', async () => {
    const path = await written(10, 4);
    const stored = entries(path);
    // audit.opened, then 10 events with a checkpoint after every 4 entries counted from the start, and one at close.
    expect(stored[0]).toMatchObject({ seq: 0, type: 'audit.opened', actor: 'process' });
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_e, i) => i));
    const checkpoints = stored.filter((e) => e.type === 'audit.checkpoint');
    expect(checkpoints.length).toBe(3);
    expect(checkpoints.every((c) => typeof c.sig === 'string' && (c.detail as { alg: string }).alg === 'HMAC-SHA256')).toBe(true);
    expect(stored.at(-1)!.type).toBe('audit.checkpoint');
    for (let i = 1; i < stored.length; i++) expect(stored[i].prev).toBe(stored[i - 1].hash);
    expect(await verifyAuditLog(path, key)).toEqual({ ok: true, entries: stored.length, signedThrough: stored.length - 1, unsignedTail: 0, truncatedTailBytes: 0 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('a reopened log continues the chain and records the restart', async () => {
    const path = await written(3);
    const before = entries(path).length;
    const audit = createAuditLog({ path, key, checkpointEvery: 100 });
    audit.append({ type: 'test.after', detail: { n: 1 } });
    await audit.flush();
    // Every write ends with a checkpoint: what flush acknowledged is signed.
    expect(await audit.verify()).toEqual({ ok: true, entries: before + 3, signedThrough: before + 2, unsignedTail: 0, truncatedTailBytes: 0 });
    await audit.close();
    const stored = entries(path);
    expect(stored[before]).toMatchObject({ seq: before, type: 'audit.opened', detail: { resumedAt: before, droppedUnsignedEntries: 0, droppedTailBytes: 0 } });
    expect(stored[before + 1]).toMatchObject({ type: 'test.after', detail: { n: 1 } });
  });

  it('appends are written in batches without flush, within flushIntervalMs', async () => {
    const path = fresh();
    const audit = createAuditLog({ path, key, flushIntervalMs: 10 });
    await audit.opened;
    audit.append({ type: 'test.unflushed' });
    await expect.poll(() => readFileSync(path, 'utf8').includes('test.unflushed'), { interval: 5, timeout: 10_000 }).toBe(true);
    await audit.close();
  });

  it('Ed25519 checkpoints verify with the public key alone, and not with another key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const path = fresh();
    const audit = createAuditLog({ path, key: privateKey, keyId: 'audit-2026-12', checkpointEvery: 2 });
    for (let i = 0; i < 5; i++) audit.append({ type: 'test.event', detail: { i } });
    await audit.close();
    expect(entries(path).filter((e) => e.type === 'audit.checkpoint').every((c) => (c.detail as { kid?: string }).kid === 'audit-2026-12')).toBe(true);
    expect(await verifyAuditLog(path, publicKey)).toMatchObject({ ok: true, unsignedTail: 0 });
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(await verifyAuditLog(path, other)).toMatchObject({ ok: false, firstBad: { reason: expect.stringMatching(/signature does not hold/) } });
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, firstBad: { reason: expect.stringMatching(/signed with "Ed25519", the key given is HMAC-SHA256/) } });
  });
});

describe('audit log: verify names the first entry tampered with', () => {
  it('altered: a field changed, hash left alone', async () => {
    const path = await written(6);
    const text = lines(path);
    text[3] = text[3].replace('"user-2"', '"mallory"');
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, entries: 3, firstBad: { index: 3, reason: expect.stringMatching(/^altered/) } });
  });

  it('altered and re-hashed: the next entry no longer chains to it', async () => {
    const path = await written(6);
    const stored = entries(path);
    stored[2] = rehash({ ...stored[2], actor: 'mallory' });
    rewrite(path, stored.map((e) => JSON.stringify(e)));
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, firstBad: { index: 3, reason: expect.stringMatching(/^chain broken/) } });
  });

  it('rewritten from an entry on with every hash recomputed: the next checkpoint’s signature fails', async () => {
    const path = await written(6, 4);
    const stored = entries(path);
    stored[2] = { ...stored[2], actor: 'mallory' };
    for (let i = 2; i < stored.length; i++) {
      if (i > 2) stored[i] = { ...stored[i], prev: stored[i - 1].hash };
      stored[i] = rehash(stored[i]);
    }
    rewrite(path, stored.map((e) => JSON.stringify(e)));
    const firstCheckpoint = stored.findIndex((e) => e.type === 'audit.checkpoint');
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, firstBad: { index: firstCheckpoint, reason: expect.stringMatching(/signature does not hold/) } });
  });

  it('removed: an entry deleted', async () => {
    const path = await written(6);
    const text = lines(path);
    text.splice(2, 1);
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, entries: 2, firstBad: { index: 2, reason: 'removed: entry 2 is missing before entry 3' } });
  });

  it('inserted: an entry replayed later in the log', async () => {
    const path = await written(6);
    const text = lines(path);
    text.splice(5, 0, text[1]);
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, entries: 5, firstBad: { index: 5, reason: 'inserted: a second entry 1 (the first is at position 1)' } });
  });

  it('inserted: a forged entry with a new number', async () => {
    const path = await written(6);
    const text = lines(path);
    text.splice(3, 0, JSON.stringify({ seq: 3, time: new Date().toISOString(), type: 'test.event', actor: 'mallory', prev: '0'.repeat(64), hash: '1'.repeat(64) }));
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, firstBad: { index: 3, reason: expect.stringMatching(/^altered/) } });
  });

  it('reordered: two entries swapped', async () => {
    const path = await written(6);
    const text = lines(path);
    [text[2], text[3]] = [text[3], text[2]];
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, entries: 2, firstBad: { index: 2, reason: 'reordered: entry 3 stands where entry 2 should (entry 2 is at position 3)' } });
  });

  it('a line that is not an entry, in the middle', async () => {
    const path = await written(3);
    const text = lines(path);
    text.splice(1, 0, 'not json at all');
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, firstBad: { index: 1, reason: 'malformed: not a JSON entry' } });
  });

  it('a tampered log is refused at open: nothing is appended to it', async () => {
    const path = await written(4);
    const text = lines(path);
    text[2] = text[2].replace('"user-1"', '"mallory"');
    rewrite(path, text);
    const size = statSync(path).size;
    const audit = createAuditLog({ path, key });
    await expect(audit.opened).rejects.toMatchObject({ code: 'TROUPE_ERR_AUDIT_CORRUPT', firstBad: { index: 2 } });
    await expect(audit.flush()).rejects.toMatchObject({ code: 'TROUPE_ERR_AUDIT_CORRUPT' });
    expect(() => audit.append({ type: 'test.more' })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_AUDIT_CLOSED' }));
    await audit.close().catch(() => {});
    expect(statSync(path).size).toBe(size);
  });
});

describe('audit log: crashes', () => {
  it('a write cut short: its unsigned entries and cut line are reported, then dropped and recorded when the log reopens', async () => {
    const path = await written(5, 4); // opened, e0, e1, e2, checkpoint, e3, e4, checkpoint
    const text = readFileSync(path, 'utf8');
    const cut = text.slice(0, text.length - 40); // into the last checkpoint
    writeFileSync(path, cut);
    const tail = Buffer.byteLength(cut) - Buffer.byteLength(cut.slice(0, cut.lastIndexOf('\n') + 1));
    expect(await verifyAuditLog(path, key)).toEqual({ ok: true, entries: 7, signedThrough: 4, unsignedTail: 2, truncatedTailBytes: tail });
    const audit = createAuditLog({ path, key });
    await audit.flush();
    expect(await audit.verify()).toEqual({ ok: true, entries: 7, signedThrough: 6, unsignedTail: 0, truncatedTailBytes: 0 });
    await audit.close();
    expect(entries(path)[5]).toMatchObject({ seq: 5, type: 'audit.opened', detail: { resumedAt: 5, droppedUnsignedEntries: 2, droppedTailBytes: tail } });
  });

  it('a cut inside a multi-byte character, or just before the last newline, is a cut line, measured in bytes', async () => {
    const path = fresh();
    const audit = createAuditLog({ path, key });
    audit.append({ type: 'test.unicode', detail: { who: 'Zoë 🦊' } });
    await audit.close();
    const bytes = readFileSync(path);
    for (const cutAt of [bytes.lastIndexOf(Buffer.from('🦊')) + 2, bytes.length - 1]) {
      writeFileSync(path, bytes.subarray(0, cutAt));
      const lastNewline = bytes.subarray(0, cutAt).lastIndexOf(0x0a) + 1;
      expect(await verifyAuditLog(path, key)).toMatchObject({ truncatedTailBytes: cutAt - lastNewline });
      const reopened = createAuditLog({ path, key });
      await reopened.close();
      expect(await verifyAuditLog(path, key)).toMatchObject({ ok: true, unsignedTail: 0, truncatedTailBytes: 0 });
      writeFileSync(path, bytes);
    }
  });

  it('kill -9 of a process appending: every flushed entry survives, the chain holds, the log reopens', async () => {
    const path = fresh();
    const child = fileURLToPath(new URL('../dist/test/fixtures/audit-child.js', import.meta.url));
    let acked = -1;
    for (const acksBeforeKill of [7, 13]) {
      const proc = spawn(process.execPath, [child, path, '16'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TROUPE_AUDIT_KEY: key } });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
      let seen = 0;
      for await (const line of createInterface({ input: proc.stdout! })) {
        acked = Number(line.split(' ')[1]);
        if (++seen === acksBeforeKill) proc.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');
      const result = await verifyAuditLog(path, key);
      expect(result.ok).toBe(true);
      // The run's flushed ticks are all there, each once, in order.
      const text = readFileSync(path, 'utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditEntry);
      expect(complete.length).toBe(result.entries);
      const ticks = complete.filter((e) => e.type === 'test.tick').map((e) => (e.detail as { i: number }).i);
      const lastRun = ticks.slice(ticks.lastIndexOf(0));
      expect(lastRun.slice(0, acked + 1)).toEqual(Array.from({ length: acked + 1 }, (_v, i) => i));
    }
    const audit = createAuditLog({ path, key });
    await audit.close();
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: true, unsignedTail: 0, truncatedTailBytes: 0 });
  }, 60_000);
});

describe('audit log: what a writer must not be able to do', () => {
  it('checkpoints stripped and every hash recomputed: verify refuses the unsigned entries', async () => {
    const path = await written(6, 4);
    const stored = entries(path).filter((e) => e.type !== 'audit.checkpoint');
    for (let i = 0; i < stored.length; i++) stored[i] = rehash({ ...stored[i], seq: i, prev: i === 0 ? '0'.repeat(64) : stored[i - 1].hash });
    rewrite(path, stored.map(canonical));
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, signedThrough: -1, firstBad: { index: 0, reason: expect.stringMatching(/^unsigned: no checkpoint signs entries 0–6/) } });
  });

  it('a correctly hashed forgery inserted before the genuine entry is the one named', async () => {
    const path = await written(6, 100);
    const stored = entries(path);
    const forged = rehash({ ...stored[3], actor: 'mallory' });
    const text = lines(path);
    text.splice(3, 0, canonical(forged));
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, firstBad: { index: 3, reason: 'inserted: the entry at position 3 is a second entry 3; the log goes on from the one at position 4' } });
  });

  it('a line with the same content but not in canonical form (a repeated key, spaces) is named', async () => {
    const path = await written(3);
    const text = lines(path);
    text[2] = text[2].replace('{"actor":"user-1",', '{"actor":"mallory","actor":"user-1",');
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, firstBad: { index: 2, reason: expect.stringMatching(/not in its canonical form/) } });
    text[2] = lines(await written(3))[2].replace(/,/g, ', ');
    rewrite(path, text);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: false, firstBad: { index: 2 } });
  });

  it('one writer per file: a second is refused while the first is open, and takes over once it closes', async () => {
    const path = fresh();
    const first = createAuditLog({ path, key });
    await first.opened;
    const second = createAuditLog({ path, key });
    await expect(second.opened).rejects.toMatchObject({ code: 'TROUPE_ERR_AUDIT_LOCKED', message: expect.stringContaining(`process ${process.pid}`) });
    await first.close();
    const third = createAuditLog({ path, key });
    await third.close();
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: true });
  });

  it('what is recorded is the event as appended: changing the object afterwards changes nothing', async () => {
    const path = fresh();
    const audit = createAuditLog({ path, key });
    const detail: Record<string, unknown> = { amount: 10 };
    audit.append({ type: 'test.refund', detail: detail as never });
    detail.amount = 1_000_000;
    detail.later = 10n;
    await audit.close();
    expect(entries(path).find((e) => e.type === 'test.refund')!.detail).toEqual({ amount: 10 });
  });

  it('verify reports on a log refused at open, and on a closed store log, instead of rejecting', async () => {
    const path = await written(3);
    const text = lines(path);
    text.splice(1, 1);
    rewrite(path, text);
    const refused = createAuditLog({ path, key });
    await expect(refused.opened).rejects.toMatchObject({ code: 'TROUPE_ERR_AUDIT_CORRUPT' });
    expect(await refused.verify()).toMatchObject({ ok: false, firstBad: { index: 1, reason: expect.stringMatching(/^removed/) } });
    const store = sqliteStore({ path: join(dir, 'closed-store.db') });
    const log = createAuditLog({ store, key });
    log.append({ type: 'test.event' });
    await log.close();
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3, unsignedTail: 0 });
  });
});

describe('audit log: bad input', () => {
  it('refuses a weak key, a bad event and what JSON cannot hold, with typed errors and nothing queued', async () => {
    expect(() => createAuditLog({ path: fresh(), key: 'short' })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION', message: expect.not.stringContaining('short') }));
    expect(() => createAuditLog({ key } as never)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION' }));
    expect(() => createAuditLog({ path: fresh(), key: generateKeyPairSync('ed25519').publicKey })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION' }));
    const path = fresh();
    const audit = createAuditLog({ path, key });
    for (const bad of [
      { type: 'Not Dotted' },
      { type: 'audit.checkpoint' },
      { type: 'test.x', actor: 42 },
      { type: 'test.x', detail: { n: 10n } },
      { type: 'test.x', detail: { f: () => 1 } },
      { type: 'test.x', detail: { when: new Date() } },
      { type: 'test.x', detail: { n: Number.NaN } },
      { type: 'test.x', detail: [1] },
      // eslint-disable-next-line no-sparse-arrays
      { type: 'test.x', detail: { holes: [1, , 3] } },
    ]) {
      expect(() => audit.append(bad as never)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    }
    await audit.close();
    expect(entries(path).map((e) => e.type)).toEqual(['audit.opened', 'audit.checkpoint']);
    expect(entries(path)[1].detail).toMatchObject({ alg: 'HMAC-SHA256', every: 256 });
    expect(() => audit.append({ type: 'test.late' })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_AUDIT_CLOSED' }));
  });
});

describe('audit log: in the durable store', () => {
  it('SQLite: appends, verifies, continues after a reopen, and a second writer of the same log is refused', async () => {
    const store = sqliteStore({ path: join(dir, 'audit.db') });
    const first = createAuditLog({ store, key, checkpointEvery: 3 });
    for (let i = 0; i < 5; i++) first.append({ type: 'test.event', detail: { i } });
    await first.close();
    expect(await verifyAuditLog({ store }, key)).toMatchObject({ ok: true, entries: 8, unsignedTail: 0 });
    const second = createAuditLog({ store, key });
    const rival = createAuditLog({ store, key });
    await Promise.all([second.opened, rival.opened]);
    second.append({ type: 'test.second' });
    await second.flush();
    rival.append({ type: 'test.rival' });
    await expect(rival.flush()).rejects.toMatchObject({ code: 'TROUPE_ERR_PERSISTENCE_CONFLICT' });
    expect(() => rival.append({ type: 'test.rival' })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_AUDIT_CLOSED' }));
    await rival.close().catch(() => {});
    await second.close();
    expect(await verifyAuditLog({ store }, key)).toMatchObject({ ok: true, entries: 11, unsignedTail: 0 });
  });
});

describe('troupe-audit verify (the CLI)', () => {
  const cli = fileURLToPath(new URL('../dist/src/audit/cli.js', import.meta.url));
  it('prints the result and exits 0 for a sound log, 1 naming the bad entry, 2 without a key', async () => {
    const path = await written(4);
    const run = (env: Record<string, string>, ...args: string[]) => spawnSync(process.execPath, [cli, 'verify', path, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });
    const good = run({ TROUPE_AUDIT_KEY: key });
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true });
    const keyFile = join(dir, 'audit.key');
    writeFileSync(keyFile, `${key}\n`);
    expect(run({}, '--key-file', keyFile).status).toBe(0);
    const text = lines(path);
    text.splice(1, 1);
    rewrite(path, text);
    const bad = run({ MY_KEY: key }, '--key-env', 'MY_KEY');
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, firstBad: { index: 1, reason: expect.stringMatching(/^removed/) } });
    const none = run({});
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no key/);
  });
});
