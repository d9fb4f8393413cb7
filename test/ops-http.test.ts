import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActorRef, ActorSystem } from 'troupe';
import { createGateway, type Gateway } from 'troupe/http';
import { fixture, startSystem } from './helpers.js';
import { captureLogs, request, serve } from './ops-helpers.js';

describe('gateway routes', () => {
  let system: ActorSystem;
  let gateway: Gateway;
  let service: ActorRef;
  let url: string;
  const logs = captureLogs();

  beforeAll(async () => {
    system = await startSystem();
    service = await system.spawn(fixture('ops-service'), { name: 'service', host: 0 });
    await system.spawn(fixture('ops-service'), { name: 'victim', host: 1 });
    gateway = createGateway(system, { auth: false, logger: logs.logger, bodyLimitBytes: 4096 });
    gateway
      .route({ method: 'POST', path: '/inc', actor: 'service', message: (r) => ({ type: 'inc', by: (r.body as { by?: number } | undefined)?.by }) })
      .route({ method: 'GET', path: '/counter', actor: service, message: () => ({ type: 'get' }) })
      .route({ method: 'GET', path: '/echo/:word', actor: 'service', message: (r) => ({ type: 'echo', value: { params: r.params, query: r.query } }) })
      .route({ method: 'POST', path: '/echo', actor: 'service', message: (r) => ({ type: 'echo', value: r.body ?? null }) })
      .route({ method: 'GET', path: '/whoami', actor: 'service', message: () => ({ type: 'whoami' }) })
      .route({ method: 'GET', path: '/never', actor: 'service', message: () => ({ type: 'never' }), timeoutMs: 100 })
      .route({ method: 'POST', path: '/boom', actor: 'victim', message: () => ({ type: 'boom' }) })
      .route({ method: 'DELETE', path: '/quiet', actor: 'service', message: () => ({ type: 'get' }), respond: () => ({ status: 204 }) })
      .route({ method: 'PUT', path: '/created', actor: 'service', message: () => ({ type: 'get' }), respond: (reply) => ({ status: 201, body: { created: reply } }) });
    ({ url } = await gateway.listen());
  });

  afterAll(async () => {
    await gateway?.close();
    await system?.shutdown();
  });

  it('asks the route\'s actor and answers with its reply as JSON', async () => {
    const inc = await request(`${url}/inc`, { method: 'POST', json: { by: 2 } });
    expect(inc.status).toBe(200);
    expect(inc.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(inc.json).toEqual({ n: 2 });
    const get = await request(`${url}/counter`);
    expect(get.json).toMatchObject({ n: 2 });
    const echo = await request(`${url}/echo/h%C3%A9llo?x=1&y=2`);
    expect(echo.json).toEqual({ params: { word: 'héllo' }, query: { x: '1', y: '2' } });
    const body = { nested: { list: [1, 'two', null, true] } };
    expect((await request(`${url}/echo`, { method: 'POST', json: body })).json).toEqual(body);
    const created = await request(`${url}/created`, { method: 'PUT' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ created: { n: 2 } });
    const quiet = await request(`${url}/quiet`, { method: 'DELETE' });
    expect([quiet.status, quiet.text, quiet.headers.get('content-length')]).toEqual([204, '', null]);
  });

  it('gives each request a correlation id that reaches the actor, the response and the log', async () => {
    const first = await request(`${url}/whoami`, { headers: { 'x-request-id': 'req-abc-1' } });
    const second = await request(`${url}/whoami`);
    const id = Number(first.headers.get('x-correlation-id'));
    expect(Number.isInteger(id) && id > 0).toBe(true);
    expect(Number(second.headers.get('x-correlation-id'))).toBe(id + 1);
    // carried in the record header to the worker, seen by the handler
    expect(first.json).toEqual({ correlationId: id, host: 0 });
    expect(second.json).toEqual({ correlationId: id + 1, host: 0 });
    expect(first.headers.get('x-request-id')).toBe('req-abc-1');
    const line = logs.lines.find((l) => l.correlationId === id);
    expect(line).toMatchObject({ msg: 'request', requestId: 'req-abc-1', method: 'GET', route: '/whoami', status: 200 });
  });

  it('refuses bad input with a 4xx JSON body, and nothing reaches the actor', async () => {
    const before = await service.ask({ type: 'seen' });
    const post = (body: string, type = 'application/json') => request(`${url}/echo`, { method: 'POST', body, headers: { 'content-type': type } });
    const cases: [Promise<Awaited<ReturnType<typeof request>>>, number, string][] = [
      [post('{"unterminated": '), 400, 'TROUPE_ERR_HTTP_BAD_JSON'],
      [post(JSON.stringify({ blob: 'x'.repeat(5000) })), 413, 'TROUPE_ERR_HTTP_BODY_TOO_LARGE'],
      [post('a=1', 'application/x-www-form-urlencoded'), 415, 'TROUPE_ERR_HTTP_MEDIA_TYPE'],
      [post('{"__proto__": {"polluted": true}}'), 400, 'TROUPE_ERR_UNENCODABLE'],
      [post('['.repeat(100) + ']'.repeat(100)), 400, 'TROUPE_ERR_UNENCODABLE'],
      [request(`${url}/nowhere`), 404, 'TROUPE_ERR_HTTP_NOT_FOUND'],
      [request(`${url}/counter`, { method: 'DELETE' }), 405, 'TROUPE_ERR_HTTP_METHOD_NOT_ALLOWED'],
      [request(`${url}/echo/%E0%A4%A`), 400, 'TROUPE_ERR_HTTP_BAD_REQUEST'],
    ];
    for (const [pending, status, code] of cases) {
      const answer = await pending;
      expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({ status, code });
      expect(typeof answer.json.error.message).toBe('string');
      expect(answer.json.correlationId).toBe(Number(answer.headers.get('x-correlation-id')));
    }
    expect((await request(`${url}/counter`, { method: 'DELETE' })).headers.get('allow')).toBe('GET');
    // the only message since `before` is the next `seen` itself
    expect(await service.ask({ type: 'seen' })).toBe((before as number) + 1);
  });

  it('answers 504 when the actor does not reply in time', async () => {
    const answer = await request(`${url}/never`);
    expect(answer.status).toBe(504);
    expect(answer.json.error.code).toBe('TROUPE_ERR_ASK_TIMEOUT');
  });

  it('answers 502 when the handler crashes, without its message', async () => {
    const victim = system.lookup('victim')!;
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === victim.id);
    const answer = await request(`${url}/boom`, { method: 'POST' });
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe('TROUPE_ERR_ACTOR_CRASHED');
    expect(answer.text).not.toContain('internal detail');
    await restarted;
  });

  it('admin API: hosts, actors per host, one actor by name', async () => {
    const hosts = await request(`${url}/admin/hosts`);
    expect(hosts.status).toBe(200);
    expect(hosts.json.workers).toBe(2);
    expect(hosts.json.hosts.map((h: { host: unknown; state: string }) => [h.host, h.state])).toEqual([
      ['main', 'up'],
      [0, 'up'],
      [1, 'up'],
    ]);
    expect(hosts.json.hosts[1]).toHaveProperty('lanesIn');
    const actors = await request(`${url}/admin/actors`);
    expect(actors.json.total).toBe(system.stats().total.actors);
    expect(actors.json.hosts.find((h: { host: unknown }) => h.host === 0).actors).toBeGreaterThanOrEqual(1);
    expect(actors.json.named).toEqual(
      expect.arrayContaining([
        { name: 'service', id: service.id, host: 0 },
        { name: 'victim', id: system.lookup('victim')!.id, host: 1 },
      ]),
    );
    expect((await request(`${url}/admin/actors/service`)).json).toEqual({ name: 'service', id: service.id, host: 0 });
    // restart through its supervisor (the root): same ref, a new incarnation
    const decided = system.events.waitFor('supervisor.decided', (e) => e.child === service.id);
    expect((await request(`${url}/admin/actors/service/restart`, { method: 'POST' })).json).toEqual({ name: 'service', id: service.id, restarted: true });
    expect(await decided).toMatchObject({ reason: 'restart-requested', directive: 'restart' });
    const missing = await request(`${url}/admin/actors/nobody`);
    expect([missing.status, missing.json.error.code]).toEqual([404, 'TROUPE_ERR_ACTOR_NOT_FOUND']);
    // fault injection is off unless the gateway is built with chaos: true
    expect((await request(`${url}/admin/workers/0/terminate`, { method: 'POST' })).status).toBe(404);
  });
});

describe('gateway: dead targets answer 503', () => {
  it('a stopped actor, by name or by ref, and one stopped through the admin API', async () => {
    await using system = await startSystem();
    const byRef = await system.spawn(fixture('ops-service'), { name: 'by-ref', host: 0 });
    await system.spawn(fixture('ops-service'), { name: 'by-name', host: 1 });
    await using served = await serve(system, {}, (g) =>
      g.route({ method: 'GET', path: '/ref', actor: byRef, message: () => ({ type: 'get' }) }).route({ method: 'GET', path: '/name', actor: 'by-name', message: () => ({ type: 'get' }) }),
    );
    const { url } = served;
    expect((await request(`${url}/ref`)).status).toBe(200);
    expect((await request(`${url}/name`)).status).toBe(200);
    await system.stop(byRef);
    const stopped = await request(`${url}/admin/actors/by-name/stop`, { method: 'POST' });
    expect(stopped.json).toMatchObject({ name: 'by-name', stopped: true });
    for (const path of ['/ref', '/name']) {
      const answer = await request(`${url}${path}`);
      expect({ path, status: answer.status, code: answer.json.error.code }).toEqual({ path, status: 503, code: 'TROUPE_ERR_ACTOR_NOT_FOUND' });
      expect(answer.headers.get('retry-after')).toBe('1');
    }
  });

  it('a worker that dies while the request waits', async () => {
    await using system = await startSystem();
    await system.spawn(fixture('ops-service'), { name: 'doomed', host: 0 });
    await using served = await serve(system, {}, (g) => g.route({ method: 'POST', path: '/exit', actor: 'doomed', message: () => ({ type: 'exit' }), timeoutMs: 120_000 }));
    const { url } = served;
    const replaced = system.events.waitFor('worker.replaced', undefined, { timeoutMs: 60_000 });
    const answer = await request(`${url}/exit`, { method: 'POST' });
    expect([answer.status, answer.json.error.code]).toEqual([503, 'TROUPE_ERR_WORKER_EXITED']);
    await replaced;
  });
});

describe('gateway options', () => {
  it('refuses to start without an explicit auth choice, and rejects bad routes', async () => {
    await using system = await startSystem({ workers: 0 });
    expect(() => createGateway(system, {} as never)).toThrow(/auth/);
    const gateway = createGateway(system, { auth: false, logger: captureLogs().logger, metrics: false });
    expect(() => gateway.route({ path: 'no-slash', actor: 'x' })).toThrow(/path/);
    expect(() => gateway.route({ method: 'TRACE' as never, path: '/x', actor: 'x' })).toThrow(/method/);
    expect(() => gateway.route({ path: '/healthz', method: 'GET', actor: 'x' })).toThrow(/already mounted/);
    expect(() => gateway.route({ path: '/x', actor: 42 as never })).toThrow(/actor/);
    await gateway.close();
  });
});
