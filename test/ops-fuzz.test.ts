import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createAuth, createGateway } from 'troupe/http';
import { seededRandom } from '../examples/actors/random.js';
import { fixture, startSystem } from './helpers.js';
import { captureLogs, request } from './ops-helpers.js';

const kSeed = 0x7e57_0006;
const kRequests = 3000;
const kRawConnections = 200;
const kConcurrency = 16;

describe('gateway under random input', () => {
  it(`answers ${kRequests} random requests and ${kRawConnections} garbage connections with 4xx or 200 only, reaches the actor only when it should, and stays healthy`, async () => {
    await using system = await startSystem();
    const service = await system.spawn(fixture('ops-service'), { name: 'service', host: 0 });
    const auth = createAuth({
      jwt: { secret: 'fuzz secret, long enough for HS256 keys!', issuer: 'fuzz', audience: 'fuzz' },
      pepper: 'fuzz pepper, sixteen+',
      roles: { viewer: ['routes:read', 'metrics:read', 'admin:read'], writer: ['routes:read', 'routes:write'] },
    });
    const viewer = auth.createApiKey('viewer').key;
    const writer = auth.createApiKey('writer').key;
    const { accessToken } = await auth.issueTokens('fuzzer', 'writer');
    const gateway = createGateway(system, { auth, logger: captureLogs('silent').logger, bodyLimitBytes: 2048 });
    const actorRoutes = new Set(['GET /counter', 'POST /echo', 'GET /items/:id']);
    gateway
      .route({ method: 'GET', path: '/counter', actor: 'service', message: () => ({ type: 'get' }) })
      .route({ method: 'POST', path: '/echo', actor: 'service', message: (r) => ({ type: 'echo', value: r.body ?? null }) })
      .route({ method: 'GET', path: '/items/:id', actor: 'service', message: (r) => ({ type: 'echo', value: r.params.id }) });
    const { url, port } = await gateway.listen();

    const random = seededRandom(kSeed);
    const int = (n: number): number => Math.floor(random() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)];
    const printable = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(0x20 + int(95))).join('');
    const anyChars = (n: number): string => Array.from({ length: n }, () => String.fromCodePoint(int(0x2fff) + 1)).join('');
    const jsonValue = (depth: number): unknown => {
      switch (depth > 3 ? int(4) : int(7)) {
        case 0: return int(2) === 0 ? null : random() < 0.5;
        case 1: return (random() - 0.5) * 10 ** int(20);
        case 2: return anyChars(int(20));
        case 3: return int(1000);
        case 4: return Array.from({ length: int(5) }, () => jsonValue(depth + 1));
        case 5: return Object.fromEntries(Array.from({ length: int(5) }, () => [anyChars(1 + int(6)), jsonValue(depth + 1)]));
        default: return { type: pick(['inc', 'boom', 'exit', 'spin', 'never', 'get']), value: jsonValue(depth + 1) };
      }
    };
    const body = (): string => {
      switch (int(8)) {
        case 0: return JSON.stringify(jsonValue(0)).slice(0, 1 + int(40)); // truncated
        case 1: return printable(int(200));
        case 2: return 'x'.repeat(2049 + int(5000)); // past the limit
        case 3: return '['.repeat(70 + int(200)) + ']'.repeat(70 + int(200));
        case 4: return '{"__proto__": {"admin": true}}';
        default: return JSON.stringify(jsonValue(0));
      }
    };
    const path = (): string => {
      switch (int(12)) {
        case 0: return '/counter';
        case 1: return '/echo';
        case 2: return `/items/${encodeURIComponent(anyChars(1 + int(10)))}`;
        case 3: return `/items/${pick(['%zz', '%E0%A4%A', '%', '%00', '..', '%2F'])}`;
        case 4: return pick(['/metrics', '/healthz', '/readyz', '/auth/refresh', '/admin/hosts', '/admin/actors/service', '/admin/stats']);
        case 5: return `/${encodeURIComponent(anyChars(int(30)))}`;
        case 6: return `/echo?${encodeURIComponent(printable(int(40)))}=${encodeURIComponent(anyChars(int(40)))}&__proto__=1`;
        case 7: return `/${'a/'.repeat(int(300))}`;
        case 8: return '/counter/';
        case 9: return '//counter';
        default: return pick(['/', '/echo', '/counter', '/items/1']);
      }
    };
    const headers = (): Record<string, string> => {
      const out: Record<string, string> = {};
      switch (int(7)) {
        case 0: out['x-api-key'] = viewer; break;
        case 1: out['x-api-key'] = writer; break;
        case 2: out['x-api-key'] = pick([printable(int(80)), `trp_${printable(8)}.${'A'.repeat(43)}`, writer.slice(0, -1)]); break;
        case 3: out.authorization = `Bearer ${accessToken}`; break;
        case 4: out.authorization = pick([`Bearer ${printable(int(300))}`, `Bearer ${accessToken.slice(0, -2)}`, printable(int(50)), 'Bearer a.b.c']); break;
        case 5: break;
        default: out.authorization = `Bearer ${accessToken}`;
      }
      if (int(3) === 0) out['content-type'] = pick(['application/json', 'text/plain', 'application/json; charset=utf-8', printable(int(30)), 'application/vnd.api+json']);
      if (int(4) === 0) out['x-request-id'] = printable(int(200));
      return out;
    };

    const statuses = new Map<number, number>();
    let reachedActor = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < kRequests) {
        next++;
        const method = pick(['GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
        const target = path();
        const init: RequestInit = { method, headers: headers() };
        if (!['GET', 'HEAD'].includes(method) && int(4) !== 0) init.body = body();
        const response = await fetch(`${url}${target}`, init);
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const route = routeOf(method, target) ?? '';
        if (response.status === 200 && actorRoutes.has(route)) reachedActor++;
      }
    };
    // Which actor route a request matched, as the gateway sees it (for counting, not for asserting).
    const routeOf = (method: string, target: string): string | undefined => {
      const pathOnly = target.split('?')[0];
      if (pathOnly === '/counter') return `${method} /counter`;
      if (pathOnly === '/echo') return `${method} /echo`;
      if (/^\/items\/[^/]+$/.test(pathOnly)) return `${method} /items/:id`;
      return undefined;
    };
    await Promise.all(Array.from({ length: kConcurrency }, worker));

    // Raw sockets: bytes no HTTP client would send.
    const raw = async (i: number): Promise<string> => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => {});
      const junk = Buffer.from(Array.from({ length: 1 + int(400) }, () => int(256)));
      switch (i % 4) {
        case 0: socket.write(junk); break;
        case 1: socket.write(`GET /counter HTTP/1.1\r\nHost: x\r\n${printable(int(50))}\r\n\r\n`); break;
        case 2: socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzzzzz\r\n\r\n`); break;
        default: socket.write(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
      }
      socket.end();
      // The server may wait for the rest of a request we never finish; we stop listening after a while.
      const timer = setTimeout(() => socket.destroy(), 5000);
      await closed;
      clearTimeout(timer);
      return received;
    };
    const rawAnswers: string[] = [];
    for (let i = 0; i < kRawConnections; i += kConcurrency) {
      rawAnswers.push(...(await Promise.all(Array.from({ length: Math.min(kConcurrency, kRawConnections - i) }, (_, j) => raw(i + j)))));
    }

    const allowed = new Set([200, 400, 401, 403, 404, 405, 413, 415]);
    const unexpected = [...statuses].filter(([status]) => !allowed.has(status));
    expect(unexpected).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(kRequests);
    // the mix exercised the whole pipeline, not just the first refusal
    for (const status of [200, 400, 401, 403, 404, 405, 413, 415]) expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    for (const answer of rawAnswers) if (answer.length > 0) expect(answer).toMatch(/^HTTP\/1\.1 (200|4\d\d) /);
    expect(rawAnswers.some((a) => a.startsWith('HTTP/1.1 400 '))).toBe(true);
    expect(rawAnswers.some((a) => a.startsWith('HTTP/1.1 431 '))).toBe(true);

    // still alive, still routing, and the actor saw exactly the requests that were let through
    expect((await request(`${url}/healthz`)).status).toBe(200);
    expect((await request(`${url}/counter`, { headers: { 'x-api-key': viewer } })).status).toBe(200);
    expect(await service.ask({ type: 'seen' })).toBe(reachedActor + 1);
    await gateway.close();
  });
});
