import { describe, expect, it } from 'vitest';
import { kInternals, type ActorRef, type ActorSystem, type SupervisorDecidedEvent, type SystemEvent } from 'troupe';
import { Supervisor, type DecisionReport, type SupervisorDriver } from '../dist/src/supervision/supervisor.js';
import { fixture, startSystem } from './helpers.js';

const member = fixture('member').href;
const boss = fixture('boss');

type Entry = { started?: string; stopped?: string };

/** A journal on main and a boss (export `kind` of test/fixtures/boss.ts) on worker 0 whose children live on worker 1. */
async function family(system: ActorSystem, kind: string, children: { label: string; restart?: string }[]) {
  const journal = await system.spawn(fixture('journal'), { host: 'main' });
  const ref = await system.spawn(boss, {
    export: kind,
    host: 0,
    args: { label: 'boss', module: member, journal, children: children.map((c) => ({ ...c, host: 1 })) },
  });
  const kids = (await ref.ask({ type: 'children' })) as ActorRef[];
  // starts so far: every child, then the boss
  await journal.ask({ type: 'read', n: children.length + 1 });
  return { journal, boss: ref, kids };
}

/** Entries the journal got after the first `skip`, once there are `count` more. */
async function entriesAfter(journal: ActorRef, skip: number, count: number): Promise<string[]> {
  const entries = (await journal.ask({ type: 'read', n: skip + count })) as Entry[];
  return entries.slice(skip).map((e) => (e.started !== undefined ? `+${e.started}` : `-${e.stopped}`));
}

function collect(system: ActorSystem, ...types: SystemEvent['type'][]): SystemEvent[] {
  const events: SystemEvent[] = [];
  for (const type of types) system.events.on(type, (e) => events.push(e));
  return events;
}

describe('supervision strategies', () => {
  it('one_for_one restarts only the child that crashed, keeping its ref and mailbox', async () => {
    await using system = await startSystem();
    const { journal, kids } = await family(system, 'oneForOne', [{ label: 'a' }, { label: 'b' }, { label: 'c' }]);
    const decided = system.events.waitFor('supervisor.decided');
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === kids[1].id);
    kids[1].tell({ type: 'crash' });
    const queued = kids[1].ask({ type: 'get' }); // sent while it restarts: reaches the new incarnation
    expect(await decided).toMatchObject({ child: kids[1].id, exit: 'abnormal', directive: 'restart', restarted: [kids[1].id], removed: [] });
    await restarted;
    expect(await queued).toMatchObject({ label: 'b', incarnation: 2 });
    expect(await entriesAfter(journal, 4, 2)).toEqual(['-b', '+b']);
    expect(await kids[0].ask({ type: 'get' })).toMatchObject({ incarnation: 1 });
    expect(await kids[2].ask({ type: 'get' })).toMatchObject({ incarnation: 1 });
  });

  it('one_for_all halts every child in reverse start order and restarts them in start order', async () => {
    await using system = await startSystem();
    const { journal, kids } = await family(system, 'oneForAll', [{ label: 'a' }, { label: 'b' }, { label: 'c' }]);
    kids[1].tell({ type: 'crash' });
    expect(await entriesAfter(journal, 4, 6)).toEqual(['-b', '-c', '-a', '+a', '+b', '+c']);
    for (const kid of kids) expect(await kid.ask({ type: 'get' })).toMatchObject({ incarnation: 2 });
  });

  it('rest_for_one restarts the crashed child and those started after it, in order', async () => {
    await using system = await startSystem();
    const { journal, kids } = await family(system, 'restForOne', [{ label: 'a' }, { label: 'b' }, { label: 'c' }, { label: 'd' }]);
    kids[1].tell({ type: 'crash' });
    expect(await entriesAfter(journal, 5, 6)).toEqual(['-b', '-d', '-c', '+b', '+c', '+d']);
    expect(await kids[0].ask({ type: 'get' })).toMatchObject({ incarnation: 1 });
    expect(await kids[3].ask({ type: 'get' })).toMatchObject({ incarnation: 2 });
  });
});

describe('each strategy with each restart type', () => {
  const strategies = { oneForOne: 'one_for_one', oneForAll: 'one_for_all', restForOne: 'rest_for_one' } as const;
  for (const [kind, strategy] of Object.entries(strategies)) {
    for (const restart of ['permanent', 'transient', 'temporary'] as const) {
      it(`${strategy}: the middle child, ${restart}, crashes`, async () => {
        await using system = await startSystem();
        const { kids } = await family(system, kind, [{ label: 'a' }, { label: 'b', restart }, { label: 'c' }]);
        const [a, b, c] = kids.map((k) => k.id);
        const expected =
          restart === 'temporary' ? [] : strategy === 'one_for_one' ? [b] : strategy === 'one_for_all' ? [a, b, c] : [b, c];
        // Every wait is set before the crash: the decision comes from the boss's worker, the restarts from the
        // children's, so a restart may be heard before the decision.
        const decided = system.events.waitFor('supervisor.decided');
        const removed = restart === 'temporary' ? system.events.waitFor('actor.stopped', (e) => e.id === b) : undefined;
        const restarted = Promise.all(expected.map((id) => system.events.waitFor('actor.restarted', (e) => e.id === id)));
        kids[1].tell({ type: 'crash' });
        expect(await decided).toMatchObject({ child: b, exit: 'abnormal', restarted: expected, removed: restart === 'temporary' ? [b] : [] });
        await removed;
        // the restarts have landed: check who is a new incarnation
        await restarted;
        for (const [i, kid] of kids.entries()) {
          if (restart === 'temporary' && i === 1) {
            await expect(kid.ask({ type: 'get' }, { timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
          } else {
            expect(await kid.ask({ type: 'get' })).toMatchObject({ incarnation: expected.includes(kid.id) ? 2 : 1 });
          }
        }
      });
    }
  }
});

describe('restart types', () => {
  it('permanent restarts after a crash and after exit(); transient only after a crash; temporary never', async () => {
    await using system = await startSystem();
    const { kids } = await family(system, 'oneForOne', [
      { label: 'perm', restart: 'permanent' },
      { label: 'trans', restart: 'transient' },
      { label: 'temp', restart: 'temporary' },
    ]);
    const [perm, trans, temp] = kids;
    const watcher = await system.spawn(fixture('watcher'), { host: 'main' });
    for (const kid of kids) await watcher.ask({ type: 'watch', ref: kid });

    const decisions = collect(system, 'supervisor.decided') as SupervisorDecidedEvent[];
    const permRestarted = system.events.waitFor('actor.restarted', (e) => e.id === perm.id);
    await perm.ask({ type: 'exit' });
    await permRestarted;
    expect(await perm.ask({ type: 'get' })).toMatchObject({ incarnation: 2 });

    const transRestarted = system.events.waitFor('actor.restarted', (e) => e.id === trans.id);
    trans.tell({ type: 'crash' });
    await transRestarted;
    await trans.ask({ type: 'exit' }); // a normal exit: removed, not restarted

    temp.tell({ type: 'crash' }); // removed, not restarted
    const downs = (await watcher.ask({ type: 'downs', n: 2 })) as { id: number; reason: string }[];
    expect(downs.map((d) => d.id).sort()).toEqual([trans.id, temp.id].sort());
    await expect(temp.ask({ type: 'get' }, { timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
    await expect(trans.ask({ type: 'get' }, { timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
    expect(decisions.map((d) => [d.child, d.exit, d.directive])).toEqual([
      [perm.id, 'normal', 'restart'],
      [trans.id, 'abnormal', 'restart'],
      [trans.id, 'normal', 'remove'],
      [temp.id, 'abnormal', 'remove'],
    ]);
  });

  it('a temporary sibling caught in a one_for_all restart is stopped for good', async () => {
    await using system = await startSystem();
    const { kids } = await family(system, 'oneForAll', [{ label: 'a' }, { label: 'temp', restart: 'temporary' }, { label: 'c' }]);
    const decided = system.events.waitFor('supervisor.decided');
    const restartedC = system.events.waitFor('actor.restarted', (e) => e.id === kids[2].id);
    kids[0].tell({ type: 'crash' });
    expect(await decided).toMatchObject({ directive: 'restart', restarted: [kids[0].id, kids[2].id], removed: [kids[1].id] });
    await restartedC;
    await expect(kids[1].ask({ type: 'get' }, { timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
  });

  it('rejects an unknown restart type or supervisor option with a typed error', async () => {
    await using system = await startSystem();
    await expect(system.spawn(fixture('member'), { restart: 'sometimes' as never, args: { label: 'x' } })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT' });
    await expect(startSystem({ supervisor: { strategy: 'all_for_none' as never } })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION', option: 'supervisor' });
  });
});

describe('restart intensity and escalation', () => {
  it('past its intensity a supervisor stops its children and fails; its own supervisor decides, up two levels', async () => {
    await using system = await startSystem();
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    // root → grand (strict) → boss (strict) → kid
    const grand = await system.spawn(boss, {
      export: 'strict',
      host: 0,
      args: {
        label: 'grand',
        module: member,
        journal,
        children: [{ label: 'boss', module: boss.href, export: 'strict', host: 1, args: { module: member, children: [{ label: 'kid', host: 0 }] } }],
      },
    });
    const decisions = collect(system, 'supervisor.decided') as SupervisorDecidedEvent[];
    const kidOf = async () => {
      const [bossRef] = (await grand.ask({ type: 'children' })) as ActorRef[];
      const [kid] = (await bossRef.ask({ type: 'children' })) as ActorRef[];
      return { bossRef, kid };
    };
    const crashTwice = async () => {
      const { bossRef, kid } = await kidOf();
      const restarted = system.events.waitFor('actor.restarted', (e) => e.id === kid.id);
      kid.tell({ type: 'crash' });
      await restarted;
      kid.tell({ type: 'crash' });
      return bossRef;
    };
    // boss gives up on the kid's second crash; grand restarts boss (its first restart)
    const { bossRef, kid: firstKid } = await kidOf();
    const watcher = await system.spawn(fixture('watcher'), { host: 'main' });
    await watcher.ask({ type: 'watch', ref: firstKid });
    const bossRestarted = system.events.waitFor('actor.restarted', (e) => e.id === bossRef.id);
    await crashTwice();
    await bossRestarted;
    // the escalation ended the kid for good (the new boss started a new one): its watcher was told
    expect(await watcher.ask({ type: 'downs', n: 1 })).toEqual([{ id: firstKid.id, reason: 'supervisor-gave-up' }]);
    // again: boss gives up, and grand, past its own intensity, gives up too: the root restarts grand
    const grandRestarted = system.events.waitFor('actor.restarted', (e) => e.id === grand.id);
    await crashTwice();
    await grandRestarted;
    expect(decisions.map((d) => d.directive)).toEqual(['restart', 'escalate', 'restart', 'restart', 'escalate', 'escalate', 'restart']);
    expect(decisions.at(-1)).toMatchObject({ supervisor: 0, child: grand.id });
    // grand's new incarnation built a new tree that works
    const { kid } = await kidOf();
    expect(await kid.ask({ type: 'get' })).toMatchObject({ label: 'kid' });
  });

  it('past the root supervisor\'s intensity the system emits system.escalated and stops cleanly', async () => {
    const system = await startSystem({ supervisor: { maxRestarts: 1, withinMs: 60_000 } });
    const kid = await system.spawn(fixture('member'), { args: { label: 'top' } });
    const escalated = system.events.waitFor('system.escalated');
    const stopped = system.events.waitFor('system.stopped');
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === kid.id);
    kid.tell({ type: 'crash' });
    await restarted;
    kid.tell({ type: 'crash' });
    expect((await escalated).reason).toContain('exceeded 1 restarts');
    expect(await stopped).toMatchObject({ forced: false });
    await expect(system.spawn(fixture('member'), { args: { label: 'late' } })).rejects.toMatchObject({ code: 'TROUPE_ERR_SYSTEM_STOPPED' });
  });

  it('backoff delays restarts of a child that keeps failing: min, then doubling up to max', async () => {
    await using system = await startSystem();
    const { kids } = await family(system, 'withBackoff', [{ label: 'flaky' }]);
    const decisions = collect(system, 'supervisor.decided') as SupervisorDecidedEvent[];
    const restarts = collect(system, 'actor.restarted');
    for (let i = 0; i < 4; i++) {
      const restarted = system.events.waitFor('actor.restarted', (e) => e.id === kids[0].id);
      kids[0].tell({ type: 'crash' });
      await restarted;
    }
    expect(decisions.map((d) => d.delayMs)).toEqual([100, 200, 400, 400]);
    // each restart came no sooner than its delay after the decision (a lower bound only)
    decisions.forEach((d, i) => expect(restarts[i].at - d.at).toBeGreaterThanOrEqual(d.delayMs - 2));
  });
});

describe('top-level actors restarted on their own worker', () => {
  it('a crashed top-level actor restarts where it runs, each time with its init args as spawned and live refs in them, also after its worker dies', async () => {
    await using system = await startSystem();
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    const keeper = await system.spawn(fixture('keeper'), { host: 1, name: 'keeper', args: { items: ['a'], bytes: new Uint8Array([1, 2]), peer: journal } });
    const asSpawned = { items: ['a'], bytes: [1, 2], host: 1 };
    // Each incarnation changes its args (they are its state), then crashes: the next gets them as spawned.
    for (let incarnation = 1; incarnation <= 3; incarnation++) {
      keeper.tell({ type: 'mutate' });
      expect(await keeper.ask({ type: 'get' })).toMatchObject({ items: ['a', 'changed'], bytes: [99, 2], incarnation });
      const decided = system.events.waitFor('supervisor.decided', (e) => e.child === keeper.id);
      const restarted = system.events.waitFor('actor.restarted', (e) => e.id === keeper.id);
      keeper.tell({ type: 'crash' });
      const queued = keeper.ask({ type: 'get' }); // sent while it restarts: reaches the new incarnation
      // decided by worker 1 itself, for the root (supervisor 0)
      expect(await decided).toMatchObject({ host: 1, supervisor: 0, exit: 'abnormal', reason: 'crashed: keeper crashes', directive: 'restart', restarted: [keeper.id], delayMs: 0 });
      expect(await restarted).toMatchObject({ host: 1, name: 'keeper' });
      expect(await queued).toMatchObject({ ...asSpawned, incarnation: incarnation + 1 });
    }
    keeper.tell({ type: 'tell-peer', entry: 'from the fourth incarnation' });
    expect(await journal.ask({ type: 'read', n: 1 })).toEqual([{ started: 'from the fourth incarnation' }]);
    expect(system.lookup('keeper')?.id).toBe(keeper.id);

    // Its worker dies: the root restarts it on the replacement, which restarts it itself from then on.
    const takenOver = system.events.waitFor('actor.restarted', (e) => e.id === keeper.id);
    keeper.tell({ type: 'mutate' });
    await keeper.ask({ type: 'get' }); // changed before its worker dies
    await system[kInternals].terminateWorker(1);
    await takenOver;
    expect(await keeper.ask({ type: 'get' })).toMatchObject({ ...asSpawned, incarnation: 1 });
    keeper.tell({ type: 'mutate' });
    const decided = system.events.waitFor('supervisor.decided', (e) => e.child === keeper.id);
    keeper.tell({ type: 'crash' });
    expect(await decided).toMatchObject({ host: 1, directive: 'restart' });
    expect(await keeper.ask({ type: 'get' })).toMatchObject({ ...asSpawned, incarnation: 2 });
  });

  it('on the main thread too, each incarnation gets its init args as spawned, not the object its supervisor keeps', async () => {
    await using system = await startSystem();
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    const args = { items: ['a'], bytes: new Uint8Array([1, 2]), peer: journal };
    const keeper = await system.spawn(fixture('keeper'), { host: 'main', args });
    for (let incarnation = 1; incarnation <= 2; incarnation++) {
      keeper.tell({ type: 'mutate' });
      expect(await keeper.ask({ type: 'get' })).toMatchObject({ items: ['a', 'changed'], bytes: [99, 2], host: 'main' });
      const restarted = system.events.waitFor('actor.restarted', (e) => e.id === keeper.id);
      keeper.tell({ type: 'crash' });
      await restarted;
      expect(await keeper.ask({ type: 'get' })).toMatchObject({ items: ['a'], bytes: [1, 2], host: 'main' });
    }
    expect(args).toEqual({ items: ['a'], bytes: new Uint8Array([1, 2]), peer: journal });
    keeper.tell({ type: 'tell-peer', entry: 'from main' });
    expect(await journal.ask({ type: 'read', n: 1 })).toEqual([{ started: 'from main' }]);
  });

  it('restart types keep their meaning: only restarts are decided on the worker, removals on the main thread', async () => {
    await using system = await startSystem();
    const perm = await system.spawn(fixture('member'), { host: 0, args: { label: 'perm' } });
    const trans = await system.spawn(fixture('member'), { host: 0, args: { label: 'trans' }, restart: 'transient' });
    const temp = await system.spawn(fixture('member'), { host: 0, args: { label: 'temp' }, restart: 'temporary' });
    const decisions = collect(system, 'supervisor.decided') as SupervisorDecidedEvent[];
    const permRestarted = system.events.waitFor('actor.restarted', (e) => e.id === perm.id);
    await perm.ask({ type: 'exit' });
    await permRestarted;
    const transRestarted = system.events.waitFor('actor.restarted', (e) => e.id === trans.id);
    trans.tell({ type: 'crash' });
    await transRestarted;
    const transGone = system.events.waitFor('actor.stopped', (e) => e.id === trans.id);
    await trans.ask({ type: 'exit' });
    await transGone;
    const tempGone = system.events.waitFor('actor.stopped', (e) => e.id === temp.id);
    temp.tell({ type: 'crash' });
    await tempGone;
    expect(decisions.map((d) => [d.child, d.exit, d.directive, d.host])).toEqual([
      [perm.id, 'normal', 'restart', 0],
      [trans.id, 'abnormal', 'restart', 0],
      [trans.id, 'normal', 'remove', 'main'],
      [temp.id, 'abnormal', 'remove', 'main'],
    ]);
    expect(await perm.ask({ type: 'get' })).toMatchObject({ label: 'perm', incarnation: 2 });
    await expect(trans.ask({ type: 'get' }, { timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
  });

  it("restarts on every thread count against the root's one intensity: the one past it makes the root give up", async () => {
    await using system = await startSystem({ supervisor: { maxRestarts: 3, withinMs: 600_000 } });
    const onMain = await system.spawn(fixture('member'), { host: 'main', args: { label: 'on-main' } });
    const onFirst = await system.spawn(fixture('member'), { host: 0, args: { label: 'on-first' } });
    const onSecond = await system.spawn(fixture('member'), { host: 1, args: { label: 'on-second' } });
    const decisions = collect(system, 'supervisor.decided') as SupervisorDecidedEvent[];
    for (const ref of [onFirst, onMain, onSecond]) {
      const restarted = system.events.waitFor('actor.restarted', (e) => e.id === ref.id);
      ref.tell({ type: 'crash' });
      await restarted;
    }
    const escalated = system.events.waitFor('system.escalated');
    const stopped = system.events.waitFor('system.stopped');
    onFirst.tell({ type: 'crash' });
    expect((await escalated).reason).toContain('exceeded 3 restarts');
    expect(await stopped).toMatchObject({ forced: false });
    // the fourth was refused on worker 0 and judged by the root
    expect(decisions.map((d) => [d.child, d.directive, d.host])).toEqual([
      [onFirst.id, 'restart', 0],
      [onMain.id, 'restart', 'main'],
      [onSecond.id, 'restart', 1],
      [onFirst.id, 'escalate', 'main'],
    ]);
  });

  it('a restart whose init fails is one more exit, restarted on the worker until the limit, where the root gives up', async () => {
    await using system = await startSystem({ supervisor: { maxRestarts: 3, withinMs: 600_000 } });
    const reborn = await system.spawn(fixture('reborn'), { host: 0, args: { label: 'fails', failFrom: 2 } });
    const decisions = collect(system, 'supervisor.decided') as SupervisorDecidedEvent[];
    const escalated = system.events.waitFor('system.escalated');
    reborn.tell('crash');
    expect((await escalated).reason).toContain('exceeded 3 restarts');
    expect(decisions.map((d) => [d.reason.split(':')[0], d.directive, d.host])).toEqual([
      ['crashed', 'restart', 0],
      ['init-failed', 'restart', 0],
      ['init-failed', 'restart', 0],
      ['init-failed', 'escalate', 'main'],
    ]);
  });

  it('a restart whose init never finishes counts as an exit after spawnTimeoutMs, as a restart the root orders does', async () => {
    await using system = await startSystem({ spawnTimeoutMs: 1000 });
    const reborn = await system.spawn(fixture('reborn'), { host: 0, args: { label: 'hangs', hangAt: 2 } });
    const unconfirmed = system.events.waitFor('supervisor.decided', (e) => e.child === reborn.id && e.reason.startsWith('restart-unconfirmed'));
    const third = system.events.waitFor('actor.restarted', (e) => e.id === reborn.id);
    reborn.tell('crash');
    expect(await unconfirmed).toMatchObject({ host: 0, exit: 'abnormal', directive: 'restart' });
    await third; // the hung second incarnation never reports started
    expect(await reborn.ask('get')).toBe(3);
  });

  it('an actor stopped while its worker restarts it still gets onStop for the state its init built', async () => {
    await using system = await startSystem();
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    // the second incarnation's init waits for a second journal entry: the first is its predecessor's onStop
    const actor = await system.spawn(fixture('slow-restart'), { host: 0, args: { journal, releaseAt: 2 } });
    const restarting = system.events.waitFor('supervisor.decided', (e) => e.child === actor.id);
    actor.tell('crash');
    expect(await restarting).toMatchObject({ host: 0, directive: 'restart' });
    await journal.ask({ type: 'read', n: 1 }); // the first incarnation has stopped: the second's init is waiting
    await system.stop(actor); // lands while that init waits
    await journal.ask({ type: 'append', entry: 'released' });
    expect(await journal.ask({ type: 'read', n: 3 })).toEqual([{ stopped: 1 }, 'released', { stopped: 2 }]);
  });

  it('with backoff, or a root strategy that restarts siblings, the main thread decides', async () => {
    for (const supervisor of [{ backoff: { minMs: 1, maxMs: 5 } }, { strategy: 'rest_for_one' as const }]) {
      await using system = await startSystem({ supervisor: { maxRestarts: 10, ...supervisor } });
      const kid = await system.spawn(fixture('member'), { host: 0, args: { label: 'kid' } });
      const decided = system.events.waitFor('supervisor.decided', (e) => e.child === kid.id);
      const restarted = system.events.waitFor('actor.restarted', (e) => e.id === kid.id);
      kid.tell({ type: 'crash' });
      expect(await decided).toMatchObject({ host: 'main', directive: 'restart' });
      await restarted;
      expect(await kid.ask({ type: 'get' })).toMatchObject({ incarnation: 2 });
    }
  });
});

describe('system-level controls', () => {
  it('restart(ref) restarts through the supervisor; names() lists named actors; state follows shutdown', async () => {
    const system = await startSystem();
    const named = await system.spawn(fixture('member'), { name: 'm', host: 1, args: { label: 'm' } });
    expect(system.names().map((n) => [n.name, n.ref.id])).toEqual([['m', named.id]]);
    const decided = system.events.waitFor('supervisor.decided');
    await system.restart(named);
    expect(await decided).toMatchObject({ supervisor: 0, child: named.id, reason: 'restart-requested', directive: 'restart' });
    expect(await named.ask({ type: 'get' })).toMatchObject({ incarnation: 2 });
    expect(system.state).toBe('running');
    const stopping = system.shutdown();
    expect(system.state).toBe('stopping');
    await stopping;
    expect(system.state).toBe('stopped');
    await expect(system.restart(named)).rejects.toMatchObject({ code: 'TROUPE_ERR_SYSTEM_STOPPED' });
  });
});

describe('children that ended together (their worker died)', () => {
  it('are judged one by one in order: a restart order that cannot be sent spares the rest, and past the intensity the supervisor gives up', async () => {
    const restarted: number[] = [];
    const removed: number[] = [];
    const decided: [number, string][] = [];
    const escalations: string[] = [];
    const epochNow = (): number => performance.timeOrigin + performance.now();
    // The supervisor's own surroundings: what it orders is recorded, and child 2's order fails to be sent.
    const driver: SupervisorDriver = {
      halt: () => Promise.resolve(),
      restart: (child) => {
        if (child === 2) throw new Error('the lane refused the order');
        restarted.push(child);
        return Promise.resolve();
      },
      remove: (child) => {
        removed.push(child);
        return Promise.resolve();
      },
      escalate: (reason) => escalations.push(reason),
      decided: (report: DecisionReport) => decided.push([report.child, report.decision.escalate ? 'escalate' : report.decision.restart.length > 0 ? 'restart' : 'remove']),
      now: () => performance.now(),
      epochNow,
    };
    const supervisor = new Supervisor({ strategy: 'one_for_one', maxRestarts: 4, withinMs: 60_000, backoff: undefined }, driver);
    for (let id = 1; id <= 6; id++) supervisor.add(id, { u: 'file:///unused.js', e: 'default', a: undefined, p: 0, r: id === 3 ? 'temporary' : 'permanent' });

    await expect(supervisor.childrenExited([1, 2, 3, 4, 5, 6], 'abnormal', 'worker-exited', epochNow())).rejects.toThrow('the lane refused the order');
    expect(decided).toEqual([
      [1, 'restart'],
      [2, 'restart'],
      [3, 'remove'],
      [4, 'restart'],
      [5, 'restart'],
      [6, 'escalate'],
    ]);
    expect(restarted).toEqual([1, 4, 5]);
    // the temporary child, then (giving up) every child left, in reverse start order
    expect(removed).toEqual([3, 6, 5, 4, 2, 1]);
    expect(escalations).toHaveLength(1);
    expect(supervisor.size).toBe(0);
  });
});
