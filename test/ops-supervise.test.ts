import { describe, expect, it } from 'vitest';
import { createGateway } from 'troupe/http';
import { fixture, startSystem } from './helpers.js';
import { captureLogs, request, serve, until } from './ops-helpers.js';

const crash = { method: 'POST', path: '/boom', message: () => ({ type: 'boom' }) } as const;
const count = { method: 'GET', path: '/count', message: () => ({ type: 'get' }) } as const;

describe('request-triggered crashes and the root supervisor', () => {
  // Regression (issue 18, item 3): after the root gave up, every route answered 503 ACTOR_NOT_FOUND for good.
  it('once the root gives up, every route answers 503 SYSTEM_STOPPED', async () => {
    await using system = await startSystem({ supervisor: { maxRestarts: 2, withinMs: 600_000 } });
    await system.spawn(fixture('ops-service'), { name: 'fragile', host: 0 });
    await system.spawn(fixture('ops-service'), { name: 'bystander', host: 1 });
    await using served = await serve(system, {}, (g) => g.route({ ...crash, actor: 'fragile' }).route({ ...count, actor: 'bystander' }));
    const { url } = served;
    const escalated = system.events.once('system.escalated', { timeoutMs: 60_000 });
    const stopped = system.events.once('system.stopped', { timeoutMs: 60_000 });
    for (let i = 0; i < 3; i++) expect((await request(`${url}/boom`, { method: 'POST' })).json.error.code).toBe('TROUPE_ERR_ACTOR_CRASHED');
    await escalated;
    for (const when of ['stopping', 'stopped']) {
      if (when === 'stopped') await stopped;
      for (const path of ['/boom', '/count']) {
        const answer = await request(`${url}${path}`, { method: path === '/boom' ? 'POST' : 'GET' });
        expect({ when, path, status: answer.status, code: answer.json.error.code }).toEqual({ when, path, status: 503, code: 'TROUPE_ERR_SYSTEM_STOPPED' });
      }
    }
  });

  it('130 crashing requests to an actor spawned through the gateway stop its own subtree, never the root', async () => {
    // A root that would give up at its third restart: none of the route's restarts may reach it.
    await using system = await startSystem({ supervisor: { maxRestarts: 2, withinMs: 600_000 } });
    await system.spawn(fixture('ops-service'), { name: 'bystander', host: 1 });
    const escalations: unknown[] = [];
    system.events.on('system.escalated', (e) => void escalations.push(e));
    const { logger, lines } = captureLogs();
    await using served = await serve(system, { logger }, (g) =>
      g.route({ ...crash, actor: 'fragile' }).route({ ...count, actor: 'fragile' }).route({ ...count, path: '/bystander', actor: 'bystander' }),
    );
    const { url, gateway } = served;
    const ref = await gateway.spawn(fixture('ops-service'), { name: 'fragile', host: 0, maxRestarts: 3, withinMs: 600_000, reviveAfterMs: false });
    expect(system.lookup('fragile')?.id).toBe(ref.id);
    expect((await request(`${url}/count`)).json).toMatchObject({ n: 0 });
    const gaveUp = system.events.waitFor('actor.stopped', (e) => e.name === 'fragile', { timeoutMs: 60_000 });
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await request(`${url}/boom`, { method: 'POST' });
      answers.push(`${answer.status} ${answer.json.error.code}`);
    }
    // three restarts within the route's budget, the fourth crash exceeds it
    expect(answers).toEqual(Array(4).fill('502 TROUPE_ERR_ACTOR_CRASHED'));
    expect(await gaveUp).toMatchObject({ id: ref.id, reason: 'supervisor-gave-up' });
    for (let i = 4; i < 130; i++) {
      const answer = await request(`${url}${i % 2 === 0 ? '/boom' : '/count'}`, { method: i % 2 === 0 ? 'POST' : 'GET' });
      answers.push(`${answer.status} ${answer.json.error.code} ${answer.headers.get('retry-after')}`);
    }
    expect(new Set(answers.slice(4))).toEqual(new Set(['503 TROUPE_ERR_ROUTE_UNAVAILABLE null']));
    expect(system.state).toBe('running');
    expect(escalations).toEqual([]);
    expect((await request(`${url}/bystander`)).status).toBe(200);
    expect((await request(`${url}/readyz`)).status).toBe(200);
    expect(lines.some((l) => l.msg === 'route actor given up' && l.name === 'fragile')).toBe(true);
  });

  it('starts a given-up actor again after reviveAfterMs, fresh, under a fresh budget', async () => {
    await using system = await startSystem({ supervisor: { maxRestarts: 1, withinMs: 600_000 } });
    await using served = await serve(system, {}, (g) => g.route({ ...crash, actor: 'fragile' }).route({ ...count, actor: 'fragile' }));
    const { url, gateway } = served;
    const first = await gateway.spawn(fixture('ops-service'), { name: 'fragile', maxRestarts: 0, reviveAfterMs: 300 });
    expect((await request(`${url}/count`)).status).toBe(200);
    for (let round = 1; round <= 3; round++) {
      const gaveUp = system.events.waitFor('actor.stopped', (e) => e.name === 'fragile', { timeoutMs: 60_000 });
      expect((await request(`${url}/boom`, { method: 'POST' })).status).toBe(502);
      await gaveUp;
      const down = await request(`${url}/count`);
      // Unless the revival already happened on a slow machine: then the next round shows it.
      if (down.status === 503) {
        // Regression: a revived pair whose child's name had not reached main's table yet was taken for one that
        // ended at once, and its later give-up was answered without the reason.
        expect(down.json.error).toMatchObject({ code: 'TROUPE_ERR_ROUTE_UNAVAILABLE', message: expect.stringMatching(/^the actor "fragile" behind this route is down after too many crashes/) });
        expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      const back = await until('the route to answer again', async () => {
        const answer = await request(`${url}/count`);
        return answer.status === 200 ? answer : undefined;
      });
      expect(back.json).toMatchObject({ n: 0 });
      expect(system.lookup('fragile')?.id).not.toBe(first.id);
    }
    expect(system.state).toBe('running');
  });
});

describe('gateway.spawn', () => {
  it('refuses bad options with a TypeError naming the option, and a failing init as spawn would', async () => {
    await using system = await startSystem();
    const gateway = createGateway(system, { auth: false, logger: captureLogs().logger, metrics: false });
    const url = fixture('ops-service');
    await expect(gateway.spawn(url, {} as never)).rejects.toThrow(/"name"/);
    await expect(gateway.spawn(url, { name: 'x', maxRestarts: -1 })).rejects.toThrow(/"maxRestarts"/);
    await expect(gateway.spawn(url, { name: 'x', withinMs: 0 })).rejects.toThrow(/"withinMs"/);
    await expect(gateway.spawn(url, { name: 'x', reviveAfterMs: -5 })).rejects.toThrow(/"reviveAfterMs"/);
    await expect(gateway.spawn(url, { name: 'x', unknown: 1 } as never)).rejects.toThrow(/unknown option "unknown"/);
    await expect(gateway.spawn(fixture('init-throws'), { name: 'x' })).rejects.toMatchObject({ code: 'TROUPE_ERR_ACTOR_INIT' });
    await gateway.spawn(url, { name: 'taken' });
    await expect(gateway.spawn(url, { name: 'taken' })).rejects.toThrow(/already/);
    expect(system.names().map((n) => n.name)).toEqual(['taken']);
    await gateway.close();
  });
});
