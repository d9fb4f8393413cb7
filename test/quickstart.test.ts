import { describe, expect, it } from 'vitest';
import { ActorSystem } from 'troupe';
import { actor, fixture, startSystem } from './helpers.js';

describe('the quick start contract', () => {
  it('spawns a counter on a worker, tells, asks, looks up by name and shuts down', async () => {
    const system = await ActorSystem.start({ workers: 2, logLevel: 'silent' });
    const counter = await system.spawn(fixture('counter'), { name: 'counter', args: { start: 0 } });
    expect(typeof system.hostOf(counter)).toBe('number');
    counter.tell({ type: 'inc' });
    expect(await counter.ask({ type: 'get' }, { timeoutMs: 1000 })).toBe(1);
    expect(system.lookup('counter')?.id).toBe(counter.id);
    expect(system.lookup('nobody')).toBeUndefined();
    await system.shutdown();
  });

  it('refuses a second actor with a taken name, and frees the name when the holder stops', async () => {
    await using system = await startSystem();
    const first = await system.spawn(actor('counter'), { name: 'solo' });
    await expect(system.spawn(actor('counter'), { name: 'solo' })).rejects.toMatchObject({ code: 'TROUPE_ERR_NAME_TAKEN' });
    await system.stop(first);
    expect(system.lookup('solo')).toBeUndefined();
    const second = await system.spawn(actor('counter'), { name: 'solo' });
    expect(system.lookup('solo')?.id).toBe(second.id);
  });

  it('places actors round-robin over workers, or where pinned', async () => {
    await using system = await startSystem();
    const spread = await Promise.all([0, 1, 2, 3].map(() => system.spawn(actor('counter'))));
    expect(spread.map((ref) => system.hostOf(ref)).sort()).toEqual([0, 0, 1, 1]);
    const onMain = await system.spawn(actor('counter'), { host: 'main' });
    expect(system.hostOf(onMain)).toBe('main');
    const pinned = await system.spawn(actor('counter'), { host: 1 });
    expect(system.hostOf(pinned)).toBe(1);
    await expect(system.spawn(actor('counter'), { host: 2 })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT' });
  });
});
