import { describe, expect, it } from 'vitest';
import type { ActorRef, DeadLetterEvent, SystemEvent } from 'troupe';
import { actor, fixture, startSystem } from './helpers.js';

describe('failures inside actors', () => {
  it('rejects an unanswered ask with TROUPE_ERR_ASK_TIMEOUT', async () => {
    await using system = await startSystem();
    const silent = await system.spawn(fixture('silent'));
    await expect(silent.ask({ any: 1 }, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ASK_TIMEOUT' });
  });

  it('rejects at once an ask to a stopped actor, and dead-letters tells to it', async () => {
    await using system = await startSystem();
    const counter = await system.spawn(actor('counter'), { host: 0 });
    await system.stop(counter);
    // a timeout far beyond the test's own: only an immediate rejection passes
    await expect(counter.ask({ type: 'get' }, { timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
    const dead = system.events.waitFor('deadLetter', (e) => e.target === counter.id);
    counter.tell({ type: 'inc' });
    expect(await dead).toMatchObject({ reason: 'no-actor', message: { type: 'inc' } });
  });

  it('a throwing handler: the message becomes a dead letter with the error, the ask rejects, the actor restarts fresh', async () => {
    await using system = await startSystem();
    const crasher = await system.spawn(fixture('crasher'), { host: 1 });
    crasher.tell({ type: 'inc' });
    crasher.tell({ type: 'inc' });
    const first = (await crasher.ask({ type: 'get' })) as { n: number; incarnation: number };
    expect(first.n).toBe(2);
    const events: SystemEvent[] = [];
    const offs = (['actor.crashed', 'actor.restarted', 'deadLetter'] as const).map((type) => system.events.on(type, (e) => events.push(e)));
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === crasher.id);
    await expect(crasher.ask({ type: 'boom' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_CRASHED' });
    await restarted;
    const after = (await crasher.ask({ type: 'get' })) as { n: number; incarnation: number };
    expect(after.n).toBe(0);
    expect(after.incarnation).toBe(first.incarnation + 1);
    const dead = events.find((e): e is DeadLetterEvent => e.type === 'deadLetter');
    expect(dead).toMatchObject({ reason: 'crashed', target: crasher.id, message: { type: 'boom' }, error: { message: 'boom' } });
    expect(events.map((e) => e.type)).toEqual(['deadLetter', 'actor.crashed', 'actor.restarted']);
    expect(system.stats().total.restarts).toBe(1);
    for (const off of offs) off();
  });

  it('a rejecting async handler crashes the actor the same way', async () => {
    await using system = await startSystem();
    const crasher = await system.spawn(fixture('crasher'), { host: 0 });
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === crasher.id);
    await expect(crasher.ask({ type: 'boom-async' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_CRASHED' });
    await restarted;
    expect(await crasher.ask({ type: 'get' })).toMatchObject({ n: 0 });
  });

  it('async handlers still take one message at a time, in order', async () => {
    await using system = await startSystem();
    const ordered = await system.spawn(fixture('async-order'), { host: 1 });
    for (let seq = 0; seq < 300; seq++) ordered.tell({ seq });
    const report = (await ordered.ask({ type: 'report' })) as { maxActive: number; seen: number[] };
    expect(report.maxActive).toBe(1);
    expect(report.seen).toEqual([...Array(300).keys()]);
  });

  it('watch delivers down on stop, and at once for an actor already gone', async () => {
    await using system = await startSystem();
    const watcher = await system.spawn(fixture('watcher'), { host: 0 });
    const watched = await system.spawn(actor('counter'), { host: 1 });
    await watcher.ask({ type: 'watch', ref: watched });
    await system.stop(watched);
    await watcher.ask({ type: 'watch', ref: watched });
    // Two different hosts send these two downs, so either may come first.
    const downs = (await watcher.ask({ type: 'downs', n: 2 })) as { reason: string }[];
    expect([...downs].sort((a, b) => b.reason.localeCompare(a.reason))).toEqual([
      { id: watched.id, reason: 'stopped' },
      { id: watched.id, reason: 'noproc' },
    ]);
  });

  it('stops children before their parent, in reverse start order', async () => {
    await using system = await startSystem();
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    const family = fixture('family').href;
    const root = await system.spawn(family, {
      args: {
        label: 'root',
        journal,
        module: family,
        children: [
          { label: 'a', journal, module: family, children: [{ label: 'a1', journal, module: family }] },
          { label: 'b', journal, module: family },
        ],
      },
    });
    const children = (await root.ask({ type: 'children' })) as ActorRef[];
    expect(children).toHaveLength(2);
    await system.stop(root);
    const entries = (await journal.ask({ type: 'read' })) as { stopped: string }[];
    expect(entries.map((e) => e.stopped)).toEqual(['b', 'a1', 'a', 'root']);
    await expect(children[0].ask({ type: 'children' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
  });

  it('a named child spawned by an actor on a worker is registered, and stops with its parent', async () => {
    await using system = await startSystem();
    const journal = await system.spawn(fixture('journal'), { host: 'main' });
    const family = fixture('family').href;
    const parent = await system.spawn(family, {
      host: 0,
      args: { label: 'parent', journal, module: family, children: [{ label: 'named-kid', name: 'kid', journal, module: family }] },
    });
    const kid = system.lookup('kid');
    expect(kid).toBeDefined();
    expect(((await parent.ask({ type: 'children' })) as ActorRef[]).map((r) => r.id)).toEqual([kid!.id]);
    await system.stop(parent);
    expect(((await journal.ask({ type: 'read' })) as { stopped: string }[]).map((e) => e.stopped)).toEqual(['named-kid', 'parent']);
    expect(system.lookup('kid')).toBeUndefined();
  });

  it('rejects spawns of modules that fail to load, export no definition, or fail in init', async () => {
    await using system = await startSystem();
    await expect(system.spawn(fixture('does-not-exist'))).rejects.toMatchObject({ code: 'TROUPE_ERR_MODULE_LOAD' });
    await expect(system.spawn(fixture('not-an-actor'))).rejects.toMatchObject({ code: 'TROUPE_ERR_NOT_AN_ACTOR' });
    await expect(system.spawn(fixture('not-an-actor'), { export: 'named' })).rejects.toMatchObject({ code: 'TROUPE_ERR_NOT_AN_ACTOR' });
    await expect(system.spawn(fixture('init-throws'), { host: 'main' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_INIT' });
    await expect(system.spawn(fixture('init-throws'), { host: 0 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_INIT' });
    await expect(system.spawn('relative/path.js')).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT' });
    // the failed spawns freed their slots: the system still works
    const counter = await system.spawn(actor('counter'));
    expect(await counter.ask({ type: 'get' })).toBe(0);
    expect(system.stats().total.actors).toBe(1);
  });
});
