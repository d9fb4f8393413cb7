import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { kInternals, type DeadLetterEvent, type SystemStoppedEvent } from 'troupe';
import { actor, fixture, startSystem } from './helpers.js';

/** Waits for `condition`, checking every few ms; fails after `timeoutMs` instead of hanging. */
async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

const reported = (events: DeadLetterEvent[], target: number): number => events.filter((e) => e.target === target).reduce((n, e) => n + (e.count ?? 1), 0);

// Issue 18: every accepted message is handled or reported, and what waits to
// be delivered is bounded in memory.
describe('nothing accepted is lost in silence, nothing waiting is unbounded', () => {
  it("messages in a dead worker's mailboxes are reported as dead letters (worker-exited, with a count)", async () => {
    await using system = await startSystem();
    const holder = await system.spawn(fixture('late-replier'), { host: 0 });
    const probe = await system.spawn(fixture('late-replier'), { host: 0 });
    holder.tell({ type: 'hold' });
    for (let i = 0; i < 100; i++) holder.tell({ type: 'inc' });
    // One lane from main to worker 0, in order: once the probe answers, the 100 are in the holder's mailbox.
    expect(await probe.ask({ type: 'ping' })).toBe('pong');
    const lost = system.events.waitFor('deadLetter', (e) => e.reason === 'worker-exited' && e.target === holder.id && e.count !== undefined);
    await system[kInternals].terminateWorker(0);
    // The 100 in its mailbox, and 'hold', whose handler had not finished.
    expect(await lost).toMatchObject({ host: 0, count: 101 });
  });

  for (const checksum of [false, true]) {
  it(`a worker that dies right after telling: what it wrote but had not published yet is still delivered (checksum ${String(checksum)})`, async () => {
    await using system = await startSystem({ checksum });
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    const speaker = await system.spawn(fixture('last-words'), { host: 0 });
    const exited = system.events.waitFor('worker.exited');
    // 10 tells reserved in the lane (batches publish every 64 records or at the end of a turn), then the thread ends.
    speaker.tell({ type: 'say-and-die', to: journal, n: 10 });
    await exited;
    expect(await journal.ask({ type: 'read', n: 10 })).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  }

  it('a forced shutdown reports every accepted message it did not deliver, lane records included', async () => {
    const system = await startSystem({ batchRecords: 1, shutdownTimeoutMs: 300 });
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    const sleeper = await system.spawn(fixture('crasher'), { host: 0 });
    const sink = await system.spawn(actor('sink'), { host: 0 });
    void sleeper.ask({ type: 'announce-and-sleep', ms: 60_000, notify: journal }, { timeoutMs: 120_000 }).catch(() => undefined);
    await journal.ask({ type: 'read', n: 1 });
    // Worker 0 is blocked: these wait in the lane (and, once it is full, in main's overflow).
    for (let seq = 0; seq < 5000; seq++) sink.tell({ seq });
    const dead: DeadLetterEvent[] = [];
    system.events.on('deadLetter', (e) => dead.push(e));
    const stopped: Promise<SystemStoppedEvent> = system.events.once('system.stopped');
    await system.shutdown();
    const event = await stopped;
    expect(event.forced).toBe(true);
    expect(reported(dead, sink.id)).toBe(5000);
    expect(event.undelivered).toBeGreaterThan(0);
    // Those that were still in the lane carry their message.
    const fromLane = dead.filter((e) => e.target === sink.id && e.reason === 'shutdown');
    expect(fromLane.length).toBeGreaterThan(0);
    expect(fromLane[0].message).toMatchObject({ seq: expect.any(Number) });
  });

  it('the overflow of a full lane is bounded in bytes (overflowBytes): past it, tell throws MAILBOX_FULL', async () => {
    await using system = await startSystem({ batchRecords: 1, overflowBytes: 1 << 20 });
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    const sleeper = await system.spawn(fixture('crasher'), { host: 0 });
    const sink = await system.spawn(actor('sink'), { host: 0 });
    const slept = sleeper.ask({ type: 'announce-and-sleep', ms: 2000, notify: journal }, { timeoutMs: 60_000 });
    await journal.ask({ type: 'read', n: 1 });
    const big = { pad: 'x'.repeat(100_000) };
    let held = 0;
    let refusal: unknown;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      try {
        if (!sink.tell(big)) held++;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toMatchObject({ code: 'TROUPE_ERR_MAILBOX_FULL' });
    expect(String((refusal as Error).message)).toMatch(/overflowBytes/);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(10);
    await until(() => system.stats().hosts[0].overflowBytes > 0, "main's held bytes in stats");
    expect(system.stats().hosts[0].overflowBytes).toBeLessThanOrEqual(1 << 20);
    expect(await slept).toBe(true);
  });

  it("dead-letter events from a worker are bounded while main is not reading them (dropped and counted, large messages as their size)", async () => {
    // batchRecords 1: the ask below is published at once, though main's loop then holds its thread.
    await using system = await startSystem({ workers: 1, batchRecords: 1 });
    const victim = await system.spawn(actor('sink'), { host: 0 });
    await system.stop(victim);
    const flooder = await system.spawn(fixture('padded-flood'), { host: 0 });
    const events: DeadLetterEvent[] = [];
    system.events.on('deadLetter', (e) => {
      if (e.target === victim.id) events.push(e);
    });
    const n = 60_000;
    const done = flooder.ask({ type: 'flood', target: victim, n, bytes: 20_000 }, { timeoutMs: 120_000 });
    // Main stays busy (this loop holds its thread) until the worker has made every dead letter.
    const deadline = Date.now() + 60_000;
    while (system.stats().hosts[1].deadLetters < n) {
      if (Date.now() > deadline) throw new Error('the flood did not finish');
    }
    const worker = system.stats().hosts[1];
    expect(worker.eventsDropped).toBeGreaterThan(0);
    expect(worker.overflowBytes).toBeLessThanOrEqual(4 * 1024 * 1024 + 64 * 1024);
    expect(await done).toBe(n);
    await until(() => events.length + system.stats().hosts[1].eventsDropped >= n, 'every event delivered or counted as dropped');
    expect(events.length + system.stats().hosts[1].eventsDropped).toBe(n);
    expect(events[0].message).toBeUndefined();
    expect(events[0].messageOmitted).toBe(true);
  });
});
