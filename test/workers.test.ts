import { createHook } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { kInternals, type ActorRef, type DeadLetterEvent } from 'troupe';
import { rehearseTakeover } from '../dist/src/host/rehearsal.js';
import { hostOptionsOf, resolveOptions } from '../dist/src/options.js';
import { actor, fixture, startSystem } from './helpers.js';

/** Waits for shared-memory figures that hosts publish on their own schedule (every turn, and every 250 ms). */
async function until(condition: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await nextTurn();
  }
}

describe('worker faults', () => {
  it("a dead worker's free slots go to its replacement instead of leaking", async () => {
    await using system = await startSystem({ workers: 2 });
    const slotMask = (1 << 21) - 1;
    const spawner = await system.spawn(fixture('spawner'), { host: 1 });
    const module = actor('counter').href;
    const child = await spawner.ask<ActorRef>({ type: 'spawn', module });
    expect(system.hostOf(child)).toBe(1);
    // stopped on worker 1: its slot goes to worker 1's free list, then worker 1 dies
    expect(await spawner.ask({ type: 'stop', ref: child })).toBe(true);
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === spawner.id);
    system[kInternals].terminateWorker(1);
    await restarted;
    const reborn = await spawner.ask<ActorRef>({ type: 'spawn', module });
    expect(reborn.id & slotMask).toBe(child.id & slotMask);
    expect(reborn.id).not.toBe(child.id);
    expect(await reborn.ask({ type: 'get' })).toBe(0);
  });

  it('a worker that exits is replaced and its actors restart there under the same refs; asks it had taken reject with TROUPE_ERR_WORKER_EXITED', async () => {
    await using system = await startSystem();
    const doomed = await system.spawn(fixture('crasher'), { host: 0 });
    const slow = await system.spawn(fixture('crasher'), { host: 0 });
    const survivor = await system.spawn(actor('counter'), { host: 1 });
    const exited = system.events.waitFor('worker.exited');
    const replaced = system.events.waitFor('worker.replaced');
    const dead = system.events.waitFor('deadLetter', (e) => e.reason === 'worker-exited');
    const restarted = [doomed, slow].map((ref) => system.events.waitFor('actor.restarted', (e) => e.id === ref.id));
    // Both reject together when the worker dies: each expectation is attached before either can.
    const inFlight = expect(slow.ask({ type: 'slow-reply', ms: 60_000 }, { timeoutMs: 120_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKER_EXITED' });
    const fatal = expect(doomed.ask({ type: 'exit', code: 3 }, { timeoutMs: 120_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKER_EXITED' });
    await fatal;
    await inFlight;
    expect(await exited).toMatchObject({ host: 0, exitCode: 3 });
    // the message it died handling is a dead letter, with the reason
    expect(await dead).toMatchObject({ target: doomed.id, message: { type: 'exit', code: 3 }, error: { code: 'TROUPE_ERR_WORKER_EXITED' } });
    // asks sent while the actors restart reach the new incarnations
    const later = doomed.ask({ type: 'get' });
    expect(await survivor.ask({ type: 'get' })).toBe(0);
    await replaced;
    await Promise.all(restarted);
    expect(await later).toMatchObject({ n: 0 });
    expect(system.hostOf(doomed)).toBe(0);
    expect(await slow.ask({ type: 'get' })).toMatchObject({ n: 0 });
  });

  it('records queued for a dead worker are all delivered to its replacement', async () => {
    await using system = await startSystem({ batchRecords: 1 });
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    const sleeper = await system.spawn(fixture('crasher'), { host: 0 });
    const sink = await system.spawn(actor('sink'), { host: 0 });
    const replaced = system.events.waitFor('worker.replaced');
    const sinkBack = system.events.waitFor('actor.restarted', (e) => e.id === sink.id);
    const letters: DeadLetterEvent[] = [];
    system.events.on('deadLetter', (e) => letters.push(e));
    // worker 0 tells the journal it is about to block, then blocks: nothing drains its lanes
    void sleeper.ask({ type: 'announce-and-sleep', ms: 60_000, notify: journal }, { timeoutMs: 120_000 }).catch(() => undefined);
    await journal.ask({ type: 'read', n: 1 });
    const n = 2_000;
    for (let i = 0; i < n; i++) sink.tell(i);
    await system[kInternals].terminateWorker(0);
    await replaced;
    await sinkBack;
    expect(await sink.ask({ type: 'expect', n }, { timeoutMs: 30_000 })).toBe(n);
    expect(await sink.ask({ type: 'count' })).toBe(n);
    // only the message it was handling died with it
    expect(letters.map((e) => [e.target, e.reason])).toEqual([[sleeper.id, 'worker-exited']]);
  });

  it('a worker stuck in a synchronous loop is detected by its heartbeat, replaced, and its actors restarted, while other workers keep answering', async () => {
    await using system = await startSystem({ stallTimeoutMs: 300 });
    const spinner = await system.spawn(fixture('crasher'), { host: 0 });
    const survivor = await system.spawn(actor('counter'), { host: 1 });
    const stalled = system.events.waitFor('worker.stalled');
    const back = system.events.waitFor('actor.restarted', (e) => e.id === spinner.id);
    // The expectation is attached at once: the worker may be replaced (and the
    // ask rejected) while the survivor is being asked below.
    const stuck = expect(spinner.ask({ type: 'spin' }, { timeoutMs: 120_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKER_EXITED' });
    const event = await stalled;
    expect(event).toMatchObject({ host: 0, stallTimeoutMs: 300 });
    expect(event.stalledForMs).toBeGreaterThanOrEqual(300);
    survivor.tell({ type: 'inc' });
    expect(await survivor.ask({ type: 'get' })).toBe(1);
    await stuck;
    await back;
    expect(await spinner.ask({ type: 'get' })).toMatchObject({ n: 0 });
  });

  it('a worker out of memory (resourceLimits) is replaced and its actor restarted', async () => {
    await using system = await startSystem({ workerResourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
    const hog = await system.spawn(fixture('member'), { host: 0, args: { label: 'hog' } });
    const exited = system.events.waitFor('worker.exited');
    const back = system.events.waitFor('actor.restarted', (e) => e.id === hog.id);
    await expect(hog.ask({ type: 'hog' }, { timeoutMs: 120_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKER_EXITED' });
    expect((await exited).error?.code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    await back;
    expect(await hog.ask({ type: 'get' })).toMatchObject({ label: 'hog' });
  });

  it('stats().actors counts the live actors of every host, also after their workers are replaced (issue 18, defect 6)', async () => {
    await using system = await startSystem({ workers: 2 });
    const refs: ActorRef[] = [];
    for (let i = 0; i < 5; i++) refs.push(await system.spawn(actor('counter'), { host: 0 }), await system.spawn(actor('counter'), { host: 1 }));
    const counts = (): number[] => system.stats().hosts.map((h) => h.actors);
    // Hosts publish their figures at the end of a turn: an ask that every actor answers is one.
    const answered = async (): Promise<void> => void (await Promise.all(refs.map((ref) => ref.ask({ type: 'get' }))));
    await answered();
    await until(() => counts().join() === '0,5,5', () => `hosts' actors ${counts().join()}`);
    for (const worker of [0, 1]) {
      const back = refs.filter((ref) => system.hostOf(ref) === worker).map((ref) => system.events.waitFor('actor.restarted', (e) => e.id === ref.id));
      await system[kInternals].terminateWorker(worker);
      await Promise.all(back);
      await answered();
      await until(() => counts().join() === '0,5,5', () => `hosts' actors after worker ${worker} was replaced: ${counts().join()}`);
      expect(system.stats().total.actors).toBe(10);
    }
  });

  it('watchers are told when an actor dies with its worker and is not restarted', async () => {
    await using system = await startSystem();
    const watcher = await system.spawn(fixture('watcher'), { host: 1 });
    const parent = await system.spawn(fixture('boss'), { host: 0, args: { label: 'p', module: fixture('member').href, children: [{ label: 'kid', host: 'local' }] } });
    const [kid] = (await parent.ask({ type: 'children' })) as ActorRef[];
    const temp = await system.spawn(fixture('member'), { host: 0, restart: 'temporary', args: { label: 'temp' } });
    await watcher.ask({ type: 'watch', ref: kid });
    await watcher.ask({ type: 'watch', ref: temp });
    await watcher.ask({ type: 'watch', ref: parent });
    const parentBack = system.events.waitFor('actor.restarted', (e) => e.id === parent.id);
    await system[kInternals].terminateWorker(0);
    // kid died with its supervisor (restarted, it starts a new kid); temp is temporary; parent is restarted: no down for it
    const downs = (await watcher.ask({ type: 'downs', n: 2 })) as { id: number; reason: string }[];
    expect(downs.map((d) => [d.id, d.reason]).sort()).toEqual([[kid.id, 'worker-exited'], [temp.id, 'worker-exited']].sort());
    await parentBack;
    const [newKid] = (await parent.ask({ type: 'children' })) as ActorRef[];
    expect(newKid.id).not.toBe(kid.id);
  });

  it('a crash loop ends in escalation, not an endless respawn, and the system stays responsive', async () => {
    const system = await startSystem({ supervisor: { maxRestarts: 1, withinMs: 60_000 } });
    const survivor = await system.spawn(actor('counter'), { host: 1 });
    const exits: number[] = [];
    system.events.on('worker.exited', (e) => exits.push(e.at));
    const escalated = system.events.waitFor('system.escalated', undefined, { timeoutMs: 60_000 });
    const stopped = system.events.waitFor('system.stopped', undefined, { timeoutMs: 60_000 });
    // a strict supervisor whose only child kills its worker shortly after every start
    await system.spawn(fixture('boss'), {
      export: 'strict',
      host: 1,
      args: { label: 'looper', module: fixture('member').href, children: [{ label: 'bomb', host: 0, args: { exitWorkerAfterMs: 20 } }] },
    });
    await system.events.waitFor('worker.exited');
    survivor.tell({ type: 'inc' });
    expect(await survivor.ask({ type: 'get' })).toBe(1);
    await escalated;
    await stopped;
    // bomb restarted once (strict), looper gave up and was restarted once by the root, then the root gave up
    expect(exits.length).toBeGreaterThanOrEqual(3);
    expect(exits.length).toBeLessThanOrEqual(5);
  });

  it('the spare imports the modules spawned for workers ahead; one that fails there changes nothing, and a takeover keeps the typed errors', async () => {
    await using system = await startSystem({ workers: 2 });
    // Both fail to spawn, on a worker and so in the spare's warm-up too.
    await expect(system.spawn(fixture('does-not-exist'), { host: 0 })).rejects.toMatchObject({ code: 'TROUPE_ERR_MODULE_LOAD' });
    await expect(system.spawn(fixture('not-an-actor'), { host: 0 })).rejects.toMatchObject({ code: 'TROUPE_ERR_NOT_AN_ACTOR' });
    const counter = await system.spawn(actor('counter'), { host: 0, args: { start: 5 } });
    counter.tell({ type: 'inc' });
    expect(await counter.ask({ type: 'get' })).toBe(6);
    await system[kInternals].spareReady();
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === counter.id);
    const replaced = system.events.waitFor('worker.replaced', (e) => e.host === 0);
    await system[kInternals].terminateWorker(0);
    await Promise.all([restarted, replaced]);
    // the spare that took worker 0 over runs the warmed module, from a fresh init
    expect(await counter.ask({ type: 'get' })).toBe(5);
    expect(system.hostOf(counter)).toBe(0);
    await expect(system.spawn(fixture('not-an-actor'), { host: 0 })).rejects.toMatchObject({ code: 'TROUPE_ERR_NOT_AN_ACTOR' });
    await expect(system.spawn(fixture('does-not-exist'), { host: 0 })).rejects.toMatchObject({ code: 'TROUPE_ERR_MODULE_LOAD' });
    const fresh = await system.spawn(actor('counter'), { host: 0, args: { start: 1 } });
    expect(await fresh.ask({ type: 'get' })).toBe(1);
  });

  it("a worker's death is judged child by child in one batch: permanent and transient actors restart, temporary ones end; a next spare becomes ready after the takeover", async () => {
    await using system = await startSystem({ workers: 2 });
    const types = ['permanent', 'transient', 'temporary'] as const;
    const actors = await Promise.all(
      Array.from({ length: 60 }, (_, i) => system.spawn(actor('counter'), { host: 0, restart: types[i % 3], args: { start: i } })),
    );
    const survivors = actors.filter((_, i) => types[i % 3] !== 'temporary');
    const temporary = actors.filter((_, i) => types[i % 3] === 'temporary');
    const restarted = survivors.map((ref) => system.events.waitFor('actor.restarted', (e) => e.id === ref.id));
    const ended = temporary.map((ref) => system.events.waitFor('actor.stopped', (e) => e.id === ref.id));
    const decided: number[] = [];
    system.events.on('supervisor.decided', (e) => decided.push(e.child));
    await system[kInternals].spareReady();
    await system[kInternals].terminateWorker(0);
    await Promise.all([...restarted, ...ended]);
    expect(decided.sort((a, b) => a - b)).toEqual(actors.map((ref) => ref.id).sort((a, b) => a - b));
    for (const ref of survivors) expect(await ref.ask({ type: 'get' })).toBe(actors.indexOf(ref));
    for (const ref of temporary) await expect(ref.ask({ type: 'get' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
    // The spare used up, the next one boots after the takeover, and the next death is repaired too.
    await system[kInternals].spareReady();
    const again = system.events.waitFor('actor.restarted', (e) => e.id === survivors[0].id);
    await system[kInternals].terminateWorker(0);
    await again;
    expect(await survivors[0].ask({ type: 'get' })).toBe(0);
  });

  it("a spare's rehearsal of a takeover runs on real hosts of its own, comes to an end, and leaves no timer running", async () => {
    // Every timer made during the rehearsal (ref'd or not: the hosts' stats and
    // heartbeat intervals are unref'd) must have been cleared by its end.
    const running = new Set<number>();
    const timers = createHook({
      init: (id, type) => void (type === 'Timeout' && running.add(id)),
      destroy: (id) => void running.delete(id),
    }).enable();
    try {
      // The smallest lanes, tiny limits and a short ask timeout must not fail it: it brings its own limits.
      await rehearseTakeover(hostOptionsOf(resolveOptions({ laneBytes: 4096, overflowLimit: 1, mailboxLimit: 1, askTimeoutMs: 1, logLevel: 'silent' })), 200, 2, true);
      // destroy hooks of cleared timers run on a later turn of the event loop
      await nextTurn();
      await nextTurn();
    } finally {
      timers.disable();
    }
    expect(running.size).toBe(0);
  });
});
