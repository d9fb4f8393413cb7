import { describe, expect, it } from 'vitest';
import type { DeadLetterEvent } from 'troupe';
import { schedule } from 'troupe/http';
import { actor, fixture, startSystem } from './helpers.js';

describe('schedules', () => {
  it('an interval schedule delivers ticks until cancelled', async () => {
    await using system = await startSystem();
    const target = await system.spawn(fixture('ops-service'), { host: 0 });
    const job = schedule(system, 20, target, { type: 'tick' });
    expect(await target.ask({ type: 'ticks', atLeast: 3 }, { timeoutMs: 30_000 })).toMatchObject({ ticks: expect.any(Number) });
    expect(job.nextRun()).toBeInstanceOf(Date);
    job.cancel();
    expect(job.active).toBe(false);
    expect(await job.ended).toBe('cancelled');
    expect(job.nextRun()).toBeNull();
    // per-sender order: every tick sent before cancel() arrived before this ask
    const { ticks } = (await target.ask({ type: 'ticks', atLeast: 0 })) as { ticks: number };
    expect(ticks).toBe(job.ticks);
    // and none after it (absence over ten intervals)
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(((await target.ask({ type: 'ticks', atLeast: 0 })) as { ticks: number }).ticks).toBe(ticks);
  });

  it('a schedule by name reaches an actor started anew under that name (a new ref); no actor by that name is a failure', async () => {
    await using system = await startSystem();
    const first = await system.spawn(fixture('ops-service'), { name: 'ticked', host: 0 });
    const job = schedule(system, 20, 'ticked', { type: 'tick' });
    await first.ask({ type: 'ticks', atLeast: 2 }, { timeoutMs: 30_000 });
    await system.stop(first);
    const second = await system.spawn(fixture('ops-service'), { name: 'ticked', host: 1 });
    expect(await second.ask({ type: 'ticks', atLeast: 2 }, { timeoutMs: 30_000 })).toMatchObject({ ticks: expect.any(Number) });
    expect(job.active).toBe(true);
    job.cancel();
    const alone = schedule(system, 20, 'nobody', { type: 'tick' }, { onStopped: 'stop' });
    expect(await alone.ended).toBe('target-stopped');
    expect([alone.ticks, alone.failures]).toEqual([0, 1]);
    expect(() => schedule(system, 20, '', { type: 'tick' })).toThrow(/ActorRef or an actor's name/);
  });

  it('a cron schedule (seconds field) ticks on node-cron', async () => {
    await using system = await startSystem();
    const target = await system.spawn(fixture('ops-service'), { host: 1 });
    const job = schedule(system, '* * * * * *', target, { type: 'tick', n: 1 });
    const next = job.nextRun()!;
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    expect(await target.ask({ type: 'ticks', atLeast: 2 }, { timeoutMs: 30_000 })).toMatchObject({ ticks: 2 });
    job.cancel();
    expect(await job.ended).toBe('cancelled');
  });

  it('survives the target\'s restarts: the ref reaches the new incarnation', async () => {
    await using system = await startSystem();
    const target = await system.spawn(fixture('ops-service'), { host: 0 });
    const job = schedule(system, 20, target, { type: 'tick' });
    const first = (await target.ask({ type: 'ticks', atLeast: 2 }, { timeoutMs: 30_000 })) as { incarnation: number };
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === target.id);
    target.tell({ type: 'boom' });
    await restarted;
    // a fresh state that fills with new ticks
    const after = (await target.ask({ type: 'ticks', atLeast: 2 }, { timeoutMs: 30_000 })) as { incarnation: number };
    expect(after.incarnation).toBe(first.incarnation + 1);
    expect(job.active).toBe(true);
    job.cancel();
  });

  it('survives the death of the target\'s worker, even with onStopped "stop"', async () => {
    await using system = await startSystem();
    const target = await system.spawn(fixture('ops-service'), { host: 0 });
    const job = schedule(system, 20, target, { type: 'tick' }, { onStopped: 'stop' });
    await target.ask({ type: 'ticks', atLeast: 1 }, { timeoutMs: 30_000 });
    expect(await target.ask({ type: 'inc', by: 5 })).toEqual({ n: 5 });
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === target.id, { timeoutMs: 60_000 });
    target.tell({ type: 'exit' });
    await restarted;
    // a fresh state on the replacement thread, and the ticks reach it
    expect(await target.ask({ type: 'ticks', atLeast: 2 }, { timeoutMs: 30_000 })).toMatchObject({ ticks: expect.any(Number) });
    expect(await target.ask({ type: 'get' })).toMatchObject({ n: 0 });
    expect(job.active).toBe(true);
    job.cancel();
  });

  it('a stopped target: each tick is a dead letter; onStopped "continue" keeps going, "stop" ends the schedule', async () => {
    await using system = await startSystem();
    const kept = await system.spawn(fixture('ops-service'), { host: 0 });
    const ended = await system.spawn(fixture('ops-service'), { host: 1 });
    await system.stop(kept);
    await system.stop(ended);
    const letters: DeadLetterEvent[] = [];
    let enough!: () => void;
    const threeForKept = new Promise<void>((resolve) => (enough = resolve));
    system.events.on('deadLetter', (e) => {
      letters.push(e);
      if (letters.filter((l) => l.target === kept.id).length === 3) enough();
    });
    const endedLetter = system.events.waitFor('deadLetter', (e) => e.target === ended.id);
    const continuing = schedule(system, 20, kept, { type: 'tick', n: 1 });
    const stopping = schedule(system, 20, ended, { type: 'tick', n: 2 }, { onStopped: 'stop' });
    expect(await stopping.ended).toBe('target-stopped');
    expect(stopping.ticks).toBe(1);
    await threeForKept;
    expect(continuing.active).toBe(true);
    continuing.cancel();
    expect(letters.find((l) => l.target === kept.id)).toMatchObject({ reason: 'no-actor', message: { type: 'tick', n: 1 } });
    expect(await endedLetter).toMatchObject({ reason: 'no-actor', message: { type: 'tick', n: 2 } });
  });

  it('ends by itself when the system stops', async () => {
    const system = await startSystem({ workers: 1 });
    const target = await system.spawn(fixture('ops-service'), { host: 0 });
    const job = schedule(system, 5, target, { type: 'tick' });
    await target.ask({ type: 'ticks', atLeast: 1 }, { timeoutMs: 30_000 });
    await system.shutdown();
    expect(await job.ended).toBe('system-stopped');
  });

  it('refuses a bad expression, interval, ref or message at once', async () => {
    await using system = await startSystem({ workers: 0 });
    const target = await system.spawn(fixture('ops-service'));
    expect(() => schedule(system, 'every minute', target, {})).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    for (const bad of [0, -5, Number.NaN, 2 ** 40]) expect(() => schedule(system, bad, target, {})).toThrow(/interval/);
    expect(() => schedule(system, 10, {} as never, {})).toThrow(/ActorRef/);
    expect(() => schedule(system, 10, target, { f: () => 1 })).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_UNENCODABLE' }));
    expect(() => schedule(system, 10, target, {}, { onStopped: 'retry' as never })).toThrow(/onStopped/);
  });
});

describe('system.schedule', () => {
  it('is the same schedule, as a method of the system', async () => {
    await using system = await startSystem();
    const sink = await system.spawn(actor('sink'), { host: 0 });
    const ticks = system.schedule(20, sink, 'tick');
    expect(await sink.ask({ type: 'expect', n: 3 })).toBeGreaterThanOrEqual(3);
    ticks.cancel();
  });
});
