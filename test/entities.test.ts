/**
 * Virtual actors (`system.entity`) on a real SQLite journal: activation by
 * the first message, passivation after idleMs, reactivation from the journal,
 * the permit bound on activations, and bad input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { ActorSystem, EntityRef, type SystemOptions } from 'troupe';
import { sqliteStore } from 'troupe/persistence';
import { fixture, startSystem } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-entities-'));
let serial = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const account = fixture('entity-account');

interface Account { key: string; balance: number; seen: number[]; activation: number; host: number | 'main' }

/** The engine's garbage collector, called on demand (to show that a dropped ref is collected). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function startWithStore(options: SystemOptions = {}): Promise<ActorSystem> {
  return startSystem({ store: sqliteStore({ path: join(dir, `entities-${++serial}.db`) }), ...options });
}

describe('entities', () => {
  it('system.entity gives the same ref at once; the first message activates it, and what is sent meanwhile is handled in order', async () => {
    await using system = await startWithStore();
    const ref = system.entity(account, 'alice');
    expect(system.entity(account, 'alice')).toBe(ref);
    expect(system.entity(account, 'bob')).not.toBe(ref);
    expect(ref).toBeInstanceOf(EntityRef);
    expect([ref.type, ref.key, ref.persistenceId, String(ref)]).toEqual(['entity-account', 'alice', 'entity-account/alice', 'entity(entity-account/alice)']);
    expect(system.stats().entities).toEqual({ known: 2, active: 0, activating: 0, queued: 0 });
    // Nothing runs until the first message; the first 40 wait for the activation, in order.
    const accepted = Array.from({ length: 40 }, (_, i) => ref.tell({ type: 'deposit', amount: 1, n: i + 1 }));
    expect(accepted[0]).toBe(false);
    const state = await ref.ask<Account>({ type: 'get' });
    expect(state.seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(state.balance).toBe(40);
    expect(state.key).toBe('alice');
    expect(system.stats().entities).toMatchObject({ known: 2, active: 1, activating: 0 });
    // Running now: tells go straight to the activation.
    expect(ref.tell({ type: 'deposit', amount: 2, n: 41 })).toBe(true);
    expect(await ref.ask({ type: 'deposit', amount: 3 })).toBe(45);
    // A numeric key is its decimal string: the same entity.
    expect(system.entity(account, 7)).toBe(system.entity(account, '7'));
  });

  it('is passivated after idleMs without messages and reactivated by the next one with its journal state', async () => {
    await using system = await startWithStore({ entities: { idleMs: 60_000 } });
    const ref = system.entity(account, 'carol', { idleMs: 100 });
    for (let n = 1; n <= 60; n++) ref.tell({ type: 'deposit', amount: n, n });
    const first = await ref.ask<Account>({ type: 'get' });
    expect(first.balance).toBe(1830);
    const passivated = await system.events.waitFor('actor.stopped', (e) => e.id === first.activation, { timeoutMs: 30_000 });
    expect(passivated.reason).toBe('passivated');
    expect(system.stats().entities).toMatchObject({ known: 1, active: 0 });
    // The next message recovers it (snapshot at 50 plus 10 events) before it is handled.
    const second = await ref.ask<Account>({ type: 'get' });
    expect(second.activation).not.toBe(first.activation);
    expect(second.balance).toBe(1830);
    expect(second.seen.slice(-10)).toEqual(Array.from({ length: 10 }, (_, i) => 51 + i));
    expect(await ref.ask({ type: 'deposit', amount: 170 })).toBe(2000);
  });

  it('a second ref to a held key with other options is refused typed; a passive key nobody holds is forgotten, and its journal found again', async () => {
    await using system = await startWithStore({ entities: { idleMs: 60_000 } });
    const held = system.entity(account, 'erin', { idleMs: 100, args: { key: 'erin' } });
    expect(system.entity(account, 'erin')).toBe(held);
    expect(system.entity(account, 'erin', { idleMs: 100, args: { key: 'erin' } })).toBe(held);
    for (const options of [{ idleMs: 200 }, { host: 0 }, { args: { key: 'other' } }]) {
      expect(() => system.entity(account, 'erin', options)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT', message: expect.stringMatching(/already has a ref with other/) }));
    }
    // 200 refs never used, and one used until it passivated: dropped by their holder, collected, forgotten.
    const activation = await (async () => {
      for (let i = 0; i < 200; i++) system.entity(account, `unused-${i}`);
      const frank = system.entity(account, 'frank', { idleMs: 50 });
      expect(await frank.ask({ type: 'deposit', amount: 7 })).toBe(7);
      return (await frank.ask<Account>({ type: 'get' })).activation;
    })();
    await system.events.waitFor('actor.stopped', (e) => e.id === activation, { timeoutMs: 30_000 });
    expect(system.stats().entities.known).toBe(202);
    const gc = collector();
    for (let round = 0; round < 100 && system.stats().entities.known > 1; round++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(system.stats().entities).toMatchObject({ known: 1, active: 0 });
    // A new ref to a forgotten key: the same journal, and other options are its own now.
    const again = system.entity(account, 'frank', { idleMs: 60_000 });
    expect(await again.ask({ type: 'deposit', amount: 3 })).toBe(10);
    expect(held.key).toBe('erin');
  });

  it('an activation still busy when its idle time runs out is kept; nothing sent to it is lost', async () => {
    await using system = await startWithStore();
    const ref = system.entity(account, 'dave', { idleMs: 20 });
    const { activation } = await ref.ask<Account>({ type: 'get' });
    // Each handler outlasts the idle timeout several times over, and the sweep tries to passivate meanwhile.
    const stopped: number[] = [];
    system.events.on('actor.stopped', (e) => stopped.push(e.id));
    for (let i = 0; i < 6; i++) expect(ref.tell({ type: 'slow', ms: 60, amount: 1 })).toBe(true);
    const after = await ref.ask<Account>({ type: 'get' });
    expect(after.balance).toBe(6);
    expect(after.activation).toBe(activation);
    expect(stopped).not.toContain(activation);
  });

  it('a crashed activation is gone; the next message activates it again from the journal, spending no root restart budget', async () => {
    await using system = await startWithStore({ supervisor: { maxRestarts: 1, withinMs: 60_000 } });
    const ref = system.entity(account, 'erin');
    let balance = 0;
    let activation = 0;
    for (let round = 1; round <= 4; round++) {
      balance += round;
      expect(await ref.ask({ type: 'deposit', amount: round })).toBe(balance);
      const crashed = ref.ask({ type: 'boom' });
      await expect(crashed).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_CRASHED' });
      const state = await ref.ask<Account>({ type: 'get' });
      expect(state.balance).toBe(balance);
      expect(state.activation).not.toBe(activation);
      activation = state.activation;
    }
    expect(system.state).toBe('running');
  });

  it('an activation that fails rejects the waiting asks and reports the waiting tells; the next message tries again', async () => {
    await using system = await startWithStore();
    const ref = system.entity(account, 'bad-frank');
    const dead = system.events.waitFor('deadLetter', (e) => e.reason === 'activation-failed', { timeoutMs: 30_000 });
    expect(ref.tell({ type: 'deposit', amount: 1 })).toBe(false);
    await expect(ref.ask({ type: 'get' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_INIT' });
    expect((await dead).message).toEqual({ type: 'deposit', amount: 1 });
    // Not cached as failed: each message is a new attempt.
    await expect(ref.ask({ type: 'get' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_INIT' });
    expect(system.stats().entities).toMatchObject({ active: 0, activating: 0, queued: 0 });
    expect(await system.entity(account, 'grace').ask({ type: 'deposit', amount: 5 })).toBe(5);
  });

  it('activations in progress never exceed entities.maxActivating; the rest wait their turn and all answer', async () => {
    await using system = await startWithStore({ entities: { maxActivating: 3 } });
    const refs = Array.from({ length: 60 }, (_, i) => system.entity(account, `bulk-${i}`));
    const answers = Promise.all(refs.map((ref, i) => ref.ask<number>({ type: 'deposit', amount: i })));
    let settled = false;
    void answers.finally(() => (settled = true));
    let mostActivating = 0;
    let mostQueued = 0;
    while (!settled) {
      const { activating, queued } = system.stats().entities;
      mostActivating = Math.max(mostActivating, activating);
      mostQueued = Math.max(mostQueued, queued);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await answers).toEqual(refs.map((_, i) => i));
    expect(mostActivating).toBe(3);
    expect(mostQueued).toBeGreaterThan(0);
    expect(system.stats().entities).toEqual({ known: 60, active: 60, activating: 0, queued: 0 });
  });

  it('an entity of a module without persistence is a virtual actor whose state lasts one activation', async () => {
    await using system = await startSystem();
    const counter = system.entity(fixture('counter'), 'c1', { idleMs: 50, args: { start: 0 } });
    counter.tell({ type: 'inc' });
    counter.tell({ type: 'inc' });
    expect(await counter.ask({ type: 'get' })).toBe(2);
    await system.events.waitFor('actor.stopped', (e) => e.reason === 'passivated', { timeoutMs: 30_000 });
    expect(await counter.ask({ type: 'get' })).toBe(0);
  });

  it('a durable entity without a store fails to activate with a typed error', async () => {
    await using system = await startSystem();
    await expect(system.entity(account, 'h').ask({ type: 'get' })).rejects.toMatchObject({ code: 'TROUPE_ERR_PERSISTENCE_NOT_CONFIGURED' });
  });
});

describe('entities: bad input', () => {
  it('refuses bad keys and options with a typed error', async () => {
    await using system = await startWithStore();
    for (const key of ['', 'x'.repeat(1025), 1.5, Number.NaN, {}, null, '\ud800'] as unknown[]) {
      expect(() => system.entity(account, key as string)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    }
    for (const options of [{ idleMs: 0 }, { idleMs: Number.POSITIVE_INFINITY }, { type: 'a/b' }, { type: '' }, { export: 1 }, { passivate: true }, 'fast']) {
      expect(() => system.entity(account, 'k', options as never)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_ARGUMENT' }));
    }
    // A key that fits but makes a persistence id too long to spawn is refused at once, not at every activation.
    expect(() => system.entity(account, 'x'.repeat(600))).toThrow(/persistence id "type\/key" must be at most 512/);
    // One type, one journal namespace: a second module cannot claim it.
    system.entity(account, 'k', { type: 'ledger' });
    expect(() => system.entity(fixture('counter'), 'k', { type: 'ledger' })).toThrow(/type "ledger" already stands for/);
    expect(() => system.entity(account, 'k', { args: { f: () => 1 } })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_UNENCODABLE' }));
  });

  it('refuses what cannot be sent before it waits, and bounds what waits (entities.maxWaiting)', async () => {
    await using system = await startWithStore({ entities: { maxWaiting: 5 } });
    const ref = system.entity(account, 'ivan');
    expect(() => ref.tell({ type: 'deposit', amount: () => 1 } as never)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_UNENCODABLE' }));
    await expect(ref.ask({ type: 'get', big: new Uint8Array(1 << 20) } as never)).rejects.toMatchObject({ code: 'TROUPE_ERR_PAYLOAD_TOO_LARGE' });
    const told = Array.from({ length: 5 }, (_, i) => ref.tell({ type: 'deposit', amount: 1, n: i }));
    expect(told).toEqual([false, false, false, false, false]);
    expect(() => ref.tell({ type: 'deposit', amount: 1 })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_MAILBOX_FULL' }));
    await expect(ref.ask({ type: 'get' })).rejects.toMatchObject({ code: 'TROUPE_ERR_MAILBOX_FULL' });
    // The five accepted ones were all delivered.
    await ref.whenWritable();
    expect((await ref.ask<Account>({ type: 'get' })).seen).toEqual([0, 1, 2, 3, 4]);
    // A ref of an entity cannot travel inside a message: send the key.
    const other = await system.spawn(fixture('counter'), { args: { start: 0 } });
    expect(() => other.tell({ type: 'inc', ref } as never)).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_UNENCODABLE' }));
  });

  it('at shutdown, waiting asks reject and waiting tells are dead letters; afterwards every use is SYSTEM_STOPPED', async () => {
    const system = await startWithStore();
    const ref = system.entity(account, 'judy');
    const dead: string[] = [];
    system.events.on('deadLetter', (e) => dead.push(e.reason));
    ref.tell({ type: 'deposit', amount: 1 });
    const waiting = ref.ask({ type: 'get' }).then(() => undefined, (error: unknown) => error);
    await system.shutdown();
    expect(await waiting).toMatchObject({ code: 'TROUPE_ERR_SYSTEM_STOPPED' });
    expect(dead).toContain('system-stopped');
    expect(() => ref.tell({ type: 'get' })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_SYSTEM_STOPPED' }));
    await expect(ref.ask({ type: 'get' })).rejects.toMatchObject({ code: 'TROUPE_ERR_SYSTEM_STOPPED' });
    expect(() => system.entity(account, 'judy')).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_SYSTEM_STOPPED' }));
  });

  it('refuses bad entities options at start', async () => {
    for (const entities of [{ idleMs: 0 }, { maxActivating: 1.5 }, { maxWaiting: -1 }, { lru: true }, 'many']) {
      await expect(ActorSystem.start({ workers: 1, logLevel: 'silent', entities: entities as never })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION' });
    }
  });
});
