import { describe, expect, it } from 'vitest';
import { ActorSystem } from 'troupe';
import { actor, fixture, startSystem } from './helpers.js';

describe('graceful shutdown', () => {
  it('drains the lanes before stopping actors, then refuses new work', async () => {
    const system = await startSystem();
    const sink = await system.spawn(actor('sink'), { host: 0 });
    const journal = await system.spawn(fixture('journal'), { host: 1 });
    const family = fixture('family').href;
    await system.spawn(family, { args: { label: 'root', journal, module: family, children: [{ label: 'kid', journal, module: family }] } });
    let sent = 0;
    while (sent < 50_000) {
      if (!sink.tell(sent++)) await new Promise((resolve) => setImmediate(resolve));
    }
    const stopped = system.events.waitFor('system.stopped');
    await system.shutdown();
    expect(await stopped).toMatchObject({ forced: false });
    const worker0 = system.stats().hosts[1];
    expect(worker0.messagesIn).toBe(50_000);
    expect(worker0.actors).toBe(0);
    expect(() => sink.tell(1)).toThrowError(expect.objectContaining({ code: 'TROUPE_ERR_SYSTEM_STOPPED' }));
    await expect(sink.ask(1)).rejects.toMatchObject({ code: 'TROUPE_ERR_SYSTEM_STOPPED' });
    await expect(system.spawn(actor('sink'))).rejects.toMatchObject({ code: 'TROUPE_ERR_SYSTEM_STOPPED' });
    await system.shutdown(); // idempotent
  });

  it('forces after shutdownTimeoutMs when an actor never settles', async () => {
    const system = await startSystem({ shutdownTimeoutMs: 300 });
    const slow = await system.spawn(fixture('crasher'), { host: 0 });
    void slow.ask({ type: 'slow-reply', ms: 60_000 }, { timeoutMs: 120_000 }).catch(() => undefined);
    const stopped = system.events.waitFor('system.stopped');
    await system.shutdown();
    expect(await stopped).toMatchObject({ forced: true });
  });
});

describe('stats', () => {
  it('reports per host and in total, from shared memory', async () => {
    await using system = await ActorSystem.start({ workers: 2, logLevel: 'silent', statsSampleEvery: 1 });
    const echo = await system.spawn(actor('echo'), { host: 1 });
    for (let i = 0; i < 200; i++) await echo.ask(i);
    const stats = system.stats();
    expect(stats.workers).toBe(2);
    expect(stats.hosts.map((h) => h.host)).toEqual(['main', 0, 1]);
    const worker1 = stats.hosts[2];
    expect(worker1.actors).toBe(1);
    expect(worker1.messagesIn).toBe(200);
    expect(worker1.processingUs.count).toBeGreaterThanOrEqual(200);
    expect(worker1.processingUs.p50).toBeGreaterThan(0);
    // cumulative buckets for Prometheus: non-decreasing, all 200+ handlers under a second
    const buckets = worker1.processingUs.buckets;
    expect(buckets.every((n, i) => i === 0 || n >= buckets[i - 1])).toBe(true);
    expect(buckets.at(-1)).toBe(worker1.processingUs.count);
    expect(worker1.processingUs.sumUs).toBeGreaterThan(0);
    expect(worker1.updatedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(worker1.heapUsedBytes).toBeGreaterThan(0);
    expect(worker1.lanesIn.map((l) => l.from)).toEqual(['main', 0]);
    expect(worker1.lanesIn[0].highWaterBytes).toBeGreaterThan(0);
    expect(stats.total.messagesIn).toBeGreaterThanOrEqual(200);
    expect(stats.total.rssBytes).toBeGreaterThan(0);
    expect(stats.total.deadLetters).toBe(0);
  });
});
