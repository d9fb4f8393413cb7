import { describe, expect, it } from 'vitest';
import { actor, fixture, startSystem } from './helpers.js';

describe('worker faults', () => {
  it('a worker that exits is reported and replaced; asks waiting on it reject with TROUPE_ERR_WORKER_EXITED', async () => {
    await using system = await startSystem();
    const doomed = await system.spawn(fixture('crasher'), { host: 0 });
    const slow = await system.spawn(fixture('crasher'), { host: 0 });
    const survivor = await system.spawn(actor('counter'), { host: 1 });
    const exited = system.events.waitFor('worker.exited');
    const replaced = system.events.waitFor('worker.replaced');
    const inFlight = slow.ask({ type: 'slow-reply', ms: 60_000 }, { timeoutMs: 120_000 });
    const fatal = doomed.ask({ type: 'exit', code: 3 }, { timeoutMs: 120_000 });
    await expect(fatal).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKER_EXITED' });
    await expect(inFlight).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKER_EXITED' });
    expect(await exited).toMatchObject({ host: 0, exitCode: 3 });
    // what lived on the dead worker is known dead: asks fail at once, not at their timeout
    await expect(doomed.ask({ type: 'get' }, { timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
    expect(await survivor.ask({ type: 'get' })).toBe(0);
    expect(await replaced).toMatchObject({ host: 0 });
    const fresh = await system.spawn(actor('counter'), { host: 0, args: { start: 5 } });
    expect(await fresh.ask({ type: 'get' })).toBe(5);
  });

  it('a worker stuck in a synchronous loop is detected by its heartbeat, terminated and replaced while other workers keep answering', async () => {
    await using system = await startSystem({ stallTimeoutMs: 300 });
    const spinner = await system.spawn(fixture('crasher'), { host: 0 });
    const survivor = await system.spawn(actor('counter'), { host: 1 });
    const stalled = system.events.waitFor('worker.stalled');
    const replaced = system.events.waitFor('worker.replaced');
    const stuck = spinner.ask({ type: 'spin' }, { timeoutMs: 120_000 });
    const event = await stalled;
    expect(event).toMatchObject({ host: 0, stallTimeoutMs: 300 });
    expect(event.stalledForMs).toBeGreaterThanOrEqual(300);
    survivor.tell({ type: 'inc' });
    expect(await survivor.ask({ type: 'get' })).toBe(1);
    await expect(stuck).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKER_EXITED' });
    await replaced;
    const fresh = await system.spawn(actor('echo'), { host: 0 });
    expect(await fresh.ask('alive')).toBe('alive');
  });

  it('records queued for a dead worker reach its replacement (and become dead letters there, its actors being gone)', async () => {
    await using system = await startSystem();
    const doomed = await system.spawn(fixture('crasher'), { host: 0 });
    const letters: unknown[] = [];
    system.events.on('deadLetter', (e) => letters.push(e.message));
    const replaced = system.events.waitFor('worker.replaced');
    // The exit message and the records behind it are in the same lane; the
    // worker dies while they wait, and its replacement reads them.
    doomed.tell({ type: 'exit', code: 0 });
    for (let i = 0; i < 5; i++) doomed.tell({ type: 'inc', i } as never);
    await replaced;
    const probe = await system.spawn(actor('echo'), { host: 0 });
    expect(await probe.ask('after')).toBe('after');
    // all five either reached the doomed actor before the exit ran (impossible: exit was first) or are dead letters
    expect(letters.filter((m) => (m as { type?: string })?.type === 'inc')).toHaveLength(5);
  });
});
