import { describe, expect, it } from 'vitest';
import { kInternals, type ActorSystem } from 'troupe';
import { Chaos } from 'troupe/chaos';
import { actor, fixture, startSystem } from './helpers.js';

/** Which lanes are cut, as "from>to" with host names. */
function cutLanes(system: ActorSystem): string[] {
  const internals = system[kInternals];
  const name = (i: number) => (i === 0 ? 'main' : String(i - 1));
  const cut: string[] = [];
  for (let a = 0; a < internals.hostCount; a++) {
    for (let b = 0; b < internals.hostCount; b++) if (a !== b && (internals.laneFaults(a, b).mask & 1) !== 0) cut.push(`${name(a)}>${name(b)}`);
  }
  return cut.sort();
}

/** Spawns a recorder on worker 1, applies `faults`, then sends it `n` numbered messages from main. */
async function sendNumbered(system: ActorSystem, n: number, faults: () => void) {
  const recorder = await system.spawn(fixture('recorder'), { host: 1 });
  faults();
  for (let seq = 0; seq < n; seq++) recorder.tell({ from: 'main', seq });
  return recorder;
}

describe('troupe/chaos fault injection', () => {
  it('partition shapes cut exactly the lanes they should', async () => {
    await using system = await startSystem({ workers: 4 });
    const chaos = new Chaos(system);
    chaos.partition([['main', 0], [1, 2, 3]]);
    expect(cutLanes(system)).toHaveLength(2 * 2 * 3);
    chaos.heal();
    expect(cutLanes(system)).toEqual([]);
    chaos.isolate(2);
    expect(cutLanes(system)).toEqual(['0>2', '1>2', '2>0', '2>1', '2>3', '2>main', '3>2', 'main>2']);
    chaos.heal();
    chaos.split(['main'], [0], { oneWay: true });
    expect(cutLanes(system)).toEqual(['main>0']);
    chaos.heal();
    chaos.bridge(['main', 0, 1], [1, 2, 3], 1);
    expect(cutLanes(system)).toEqual(['0>2', '0>3', '2>0', '2>main', '3>0', '3>main', 'main>2', 'main>3']);
    chaos.heal();
    chaos.ringOfMajorities();
    // 5 hosts on a ring: each reaches its 2 neighbours, cut from the other 2
    expect(cutLanes(system)).toHaveLength(5 * 2);
    chaos.healAll();
    expect(cutLanes(system)).toEqual([]);
    expect(() => chaos.cut('main', 7)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
  });

  it('a cut lane loses what is sent while it is cut (counted), and carries traffic again once healed', async () => {
    await using system = await startSystem();
    const chaos = new Chaos(system);
    const sink = await system.spawn(actor('sink'), { host: 1 });
    chaos.cut('main', 1);
    for (let i = 0; i < 100; i++) sink.tell(i);
    // The fault layer knows what it dropped: the ask is a dead letter, rejected at once, not a timeout.
    await expect(sink.ask({ type: 'count' }, { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_CHAOS_FAULT' });
    chaos.heal('main', 1);
    expect(await sink.ask({ type: 'count' })).toBe(0);
    expect(system.stats().hosts[0].faults.dropped).toBe(101);
  });

  it('drops are seeded: the same seed and traffic lose the same messages', async () => {
    const lost = async (seed: number) => {
      await using system = await startSystem();
      const chaos = new Chaos(system, { seed });
      const recorder = await sendNumbered(system, 2000, () => chaos.link('main', 1, { dropRate: 0.3 }));
      chaos.healAll();
      const report = (await recorder.ask({ type: 'report' })) as { counts: Record<string, number>; outOfOrder: number };
      return { received: report.counts.main ?? 0, dropped: system.stats().hosts[0].faults.dropped };
    };
    const first = await lost(7);
    const again = await lost(7);
    const other = await lost(8);
    expect(first).toEqual(again);
    expect(first.received + first.dropped).toBe(2000);
    expect(first.dropped).toBeGreaterThan(450);
    expect(first.dropped).toBeLessThan(750);
    expect(other.dropped).not.toBe(first.dropped);
  });

  it('duplicates, delays (in order) and corrupts records on one link', { timeout: 120_000 }, async () => {
    await using system = await startSystem();
    const chaos = new Chaos(system, { seed: 3 });
    const recorder = await sendNumbered(system, 10, () => chaos.link('main', 1, { duplicateRate: 1 }));
    // every record twice: the recorder sees each sequence number again, as out of order
    expect(await recorder.ask({ type: 'report', total: 20 })).toMatchObject({ counts: { main: 20 }, outOfOrder: 10 });
    const delayed = await system.spawn(fixture('recorder'), { host: 1 });
    chaos.link('main', 1, { delayMs: 40, jitterMs: 20 });
    const sent = performance.now();
    for (let seq = 0; seq < 50; seq++) delayed.tell({ from: 'main', seq });
    expect(await delayed.ask({ type: 'report', total: 50 })).toEqual({ counts: { main: 50 }, outOfOrder: 0 });
    expect(performance.now() - sent).toBeGreaterThanOrEqual(40);
    const counter = await system.spawn(actor('counter'), { host: 1 });
    const undecodable = system.events.waitFor('deadLetter', (e) => e.reason === 'decode-failed');
    chaos.link('main', 1, { corruptRate: 1 });
    for (let i = 0; i < 50; i++) counter.tell({ type: 'inc' });
    chaos.healAll();
    // some flipped bits make a record undecodable (a dead letter); the host survives them all
    await undecodable;
    expect(await counter.ask({ type: 'get' })).toBeLessThan(50);
    const faults = system.stats().hosts[0].faults;
    expect(faults.duplicated).toBeGreaterThanOrEqual(10); // the report ask went through the duplicating link too
    expect(faults.delayed).toBeGreaterThanOrEqual(50);
    expect(faults.corrupted).toBe(50);
  });

  it('throttles a slow consumer without losing anything', async () => {
    await using system = await startSystem();
    const chaos = new Chaos(system);
    chaos.throttle(1, 5);
    const recorder = await sendNumbered(system, 300, () => undefined);
    expect(await recorder.ask({ type: 'report', total: 300 })).toEqual({ counts: { main: 300 }, outOfOrder: 0 });
    chaos.healAll();
  });

  it('starves a worker of heap until its resourceLimits end it', async () => {
    // A long stall timeout: the allocation loop is synchronous, and must not be taken for a stall first.
    await using system = await startSystem({ workerResourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
    const exited = system.events.waitFor('worker.exited');
    new Chaos(system).exhaustHeap(0);
    expect((await exited).error?.code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    await system.events.waitFor('worker.replaced');
  });

  it('kills, exits and stalls workers, and crashes actors, each reported', async () => {
    await using system = await startSystem({ stallTimeoutMs: 200 });
    const chaos = new Chaos(system);
    const counter = await system.spawn(actor('counter'), { host: 1 });
    const crashed = system.events.waitFor('actor.crashed', (e) => e.id === counter.id);
    expect(chaos.crashActor(counter)).toBe(true);
    counter.tell({ type: 'inc' });
    expect((await crashed).error.code).toBe('TROUPE_ERR_CHAOS_FAULT');

    let exited = system.events.waitFor('worker.exited');
    chaos.exitWorker(0, 9);
    expect(await exited).toMatchObject({ host: 0, exitCode: 9 });
    await system.events.waitFor('worker.replaced');

    const stalled = system.events.waitFor('worker.stalled');
    chaos.stallWorker(0);
    expect(await stalled).toMatchObject({ host: 0 });
    await system.events.waitFor('worker.replaced');

    exited = system.events.waitFor('worker.exited');
    await chaos.killWorker(0);
    expect(await exited).toMatchObject({ host: 0, exitCode: 1 });
  });

  it('a restart order lost in a cut lane is ordered again until one is answered', { timeout: 60_000 }, async () => {
    await using system = await startSystem({ workers: 2, spawnTimeoutMs: 500 });
    const chaos = new Chaos(system);
    const counter = await system.spawn(actor('counter'), { host: 1, args: { start: 5 } });
    chaos.link('main', 1, { dropRate: 1 });
    const unconfirmed = system.events.waitFor('supervisor.decided', (e) => e.child === counter.id && e.reason.startsWith('restart-unconfirmed'));
    await chaos.killWorker(1);
    const retry = await unconfirmed;
    expect(retry).toMatchObject({ exit: 'abnormal', directive: 'restart' });
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === counter.id);
    chaos.healAll();
    await restarted;
    expect(await counter.ask({ type: 'get' }, { timeoutMs: 10_000 })).toBe(5);
  });
});
