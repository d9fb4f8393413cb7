import { describe, expect, it } from 'vitest';
import type { HealthReport } from 'troupe/http';
import { createGateway } from 'troupe/http';
import { fixture, startSystem } from './helpers.js';
import { captureLogs, parseExposition, request, serve, sum, until } from './ops-helpers.js';

describe('health and readiness', () => {
  it('answer 200 on a healthy system, with each worker\'s state', async () => {
    await using system = await startSystem();
    await using served = await serve(system);
    for (const path of ['/healthz', '/readyz']) {
      const answer = await request(`${served.url}${path}`);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ status: 'ok', reasons: [] });
      expect(answer.json.workers.map((w: { host: number; state: string }) => [w.host, w.state])).toEqual([
        [0, 'up'],
        [1, 'up'],
      ]);
    }
  });

  it('a worker stuck in a handler turns both to 503 until the runtime replaces it', async () => {
    // The gateway sees the silence after 300 ms, long before the runtime's 4 s stall timeout acts.
    await using system = await startSystem({ stallTimeoutMs: 4000 });
    const spinner = await system.spawn(fixture('ops-service'), { host: 0 });
    await using served = await serve(system, { health: { staleAfterMs: 300 } });
    const { url } = served;
    const stalled = system.events.waitFor('worker.stalled', undefined, { timeoutMs: 60_000 });
    const replaced = system.events.waitFor('worker.replaced', undefined, { timeoutMs: 60_000 });
    spinner.tell({ type: 'spin' });
    const sick = await until('/healthz to fail', async () => {
      const answer = await request(`${url}/healthz`);
      return answer.status === 503 ? answer : undefined;
    });
    expect(sick.json.status).toBe('fail');
    expect(sick.json.reasons.join()).toMatch(/worker 0 is busy and silent/);
    expect(sick.json.workers).toMatchObject([{ host: 0, state: 'stale', parked: false }, { host: 1, state: 'up' }]);
    expect((await request(`${url}/readyz`)).status).toBe(503);
    await stalled;
    await replaced;
    expect((await request(`${url}/healthz`)).status).toBe(200);
    expect((await request(`${url}/readyz`)).status).toBe(200);
    const { samples } = parseExposition((await request(`${url}/metrics`)).text);
    expect(sum(samples, 'troupe_worker_stalls_total', { host: '0' })).toBe(1);
    expect(sum(samples, 'troupe_worker_exits_total', { host: '0' })).toBe(1);
    expect(sum(samples, 'troupe_worker_restarts_total', { host: '0' })).toBe(1);
    expect(sum(samples, 'troupe_worker_stalls_total', { host: '1' })).toBe(0);
  });

  it('a worker.stalled event fails liveness until worker.replaced', async () => {
    // 1.5 s: long enough that a worker still loading under CI load is not taken for stalled, short enough to wait for
    await using system = await startSystem({ stallTimeoutMs: 1500 });
    const spinner = await system.spawn(fixture('ops-service'), { host: 1 });
    // staleness alone would not trip within a minute: only the event can
    const gateway = createGateway(system, { auth: false, logger: captureLogs().logger, health: { staleAfterMs: 60_000 } });
    const seen: { live: HealthReport; ready: HealthReport }[] = [];
    // registered after the gateway's own listener, so it sees the state the event left; only the spinner's
    // worker counts (on a loaded machine another thread can miss its heartbeats too, and worker 1 itself can be
    // stalled once more before the replacement is reported: every stall it saw must fail liveness)
    system.events.on('worker.stalled', (e) => {
      if (e.host === 1) seen.push({ live: gateway.liveness(), ready: gateway.readiness() });
    });
    const replaced = system.events.waitFor('worker.replaced', undefined, { timeoutMs: 60_000 });
    spinner.tell({ type: 'spin' });
    await replaced;
    expect(seen.length).toBeGreaterThanOrEqual(1);
    for (const { live, ready } of seen) {
      expect(live.status).toBe('fail');
      expect(live.reasons).toEqual(['worker 1 stalled and is not replaced yet']);
      expect(ready.status).toBe('fail');
    }
    expect(gateway.liveness().status).toBe('ok');
    expect(gateway.readiness().status).toBe('ok');
    await gateway.close();
  });

  it('a worker that exits fails readiness, not liveness, until it is replaced (fault injected through the admin API)', async () => {
    await using system = await startSystem();
    await using served = await serve(system, { chaos: true });
    const { url, gateway } = served;
    const seen: { live: string; ready: string; reasons: string[] }[] = [];
    system.events.on('worker.exited', () => {
      const ready = gateway.readiness();
      seen.push({ live: gateway.liveness().status, ready: ready.status, reasons: ready.reasons });
    });
    const replaced = system.events.waitFor('worker.replaced', undefined, { timeoutMs: 60_000 });
    const terminated = await request(`${url}/admin/workers/1/terminate`, { method: 'POST' });
    expect(terminated.status).toBe(200);
    expect(terminated.json.worker).toBe(1);
    await replaced;
    expect(seen).toEqual([{ live: 'ok', ready: 'fail', reasons: ['worker 1 is down'] }]);
    expect((await request(`${url}/readyz`)).status).toBe(200);
    expect((await request(`${url}/admin/workers/2/terminate`, { method: 'POST' })).status).toBe(404);
  });

  it('shutdown: /readyz fails at once while requests are still served, then the server closes and the system stops', async () => {
    const system = await startSystem();
    await system.spawn(fixture('ops-service'), { name: 'service', host: 0 });
    const { gateway, url } = await serve(system, {}, (g) => g.route({ method: 'GET', path: '/counter', actor: 'service', message: () => ({ type: 'get' }) }));
    const stopped = system.events.once('system.stopped', { timeoutMs: 60_000 });
    const shutdown = gateway.shutdown({ drainMs: 3000 });
    const ready = await request(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.json.reasons).toEqual(['shutting down (gateway shutdown)']);
    expect((await request(`${url}/healthz`)).status).toBe(200);
    const during = await request(`${url}/counter`);
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).not.toBe('close');
    await shutdown;
    expect(await stopped).toMatchObject({ forced: false });
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  // Regression (issue 18, item 2): /healthz stayed 200, workers "up, parked", after the system had stopped.
  it('both probes fail once the system has stopped, the gateway still listening', async () => {
    const system = await startSystem();
    await using served = await serve(system);
    const { url } = served;
    expect((await request(`${url}/healthz`)).status).toBe(200);
    await system.shutdown();
    for (const path of ['/healthz', '/readyz']) {
      const answer = await request(`${url}${path}`);
      expect({ path, status: answer.status, state: answer.json.status }).toEqual({ path, status: 503, state: 'fail' });
      expect(answer.json.reasons).toContain('the system is stopped');
    }
  });

  // Regression (issue 18, item 2): after an escalation /readyz answered 200 until system.stopped arrived.
  it('both probes fail from the moment the root supervisor gives up, before the system has stopped', async () => {
    await using system = await startSystem({ supervisor: { maxRestarts: 2, withinMs: 600_000 } });
    const victim = await system.spawn(fixture('ops-service'), { host: 0 });
    const gateway = createGateway(system, { auth: false, logger: captureLogs().logger });
    const seen: { at: string; state: string; live: string; ready: string }[] = [];
    const record = (at: string): void => void seen.push({ at, state: system.state, live: gateway.liveness().status, ready: gateway.readiness().status });
    system.events.on('supervisor.decided', (e) => {
      if (Number(e.supervisor) === 0 && e.directive === 'escalate') record('root gives up');
    });
    system.events.on('system.escalated', () => record('system.escalated'));
    const stopped = system.events.once('system.stopped', { timeoutMs: 60_000 });
    // A restart keeps the mailbox: each incarnation meets the next boom.
    for (let i = 0; i < 3; i++) victim.tell({ type: 'boom' });
    await stopped;
    expect(seen).toEqual([
      { at: 'root gives up', state: 'stopping', live: 'fail', ready: 'fail' },
      { at: 'system.escalated', state: 'stopping', live: 'fail', ready: 'fail' },
    ]);
    expect(gateway.liveness().reasons).toEqual(['the system is stopped']);
    await gateway.close();
  });
});
