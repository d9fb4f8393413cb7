import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createGateway } from 'troupe/http';
import { fixture, startSystem } from './helpers.js';
import { captureLogs, serve } from './ops-helpers.js';

/** A raw connection to the gateway: what it received, and a promise of its end. */
async function open(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void>; data: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let gotData!: () => void;
  const data = new Promise<void>((resolve) => (gotData = resolve));
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    gotData();
  });
  // A refused connection may end in a reset; either way it ends.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => text, closed, data };
}

const echo = { method: 'POST', path: '/echo', actor: 'service', message: (r: { body: unknown }) => ({ type: 'echo', value: r.body ?? null }) } as const;

describe('HTTP server limits', () => {
  it('listen() sets safe timeouts and a connection limit by default', async () => {
    await using system = await startSystem({ workers: 0 });
    await using served = await serve(system);
    const server = served.gateway.server!;
    expect({
      headersTimeout: server.headersTimeout,
      requestTimeout: server.requestTimeout,
      keepAliveTimeout: server.keepAliveTimeout,
      maxConnections: server.maxConnections,
    }).toEqual({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxConnections: 1_024 });
  });

  it('the options override them', async () => {
    await using system = await startSystem({ workers: 0 });
    await using served = await serve(system, { headersTimeoutMs: 2_000, requestTimeoutMs: 4_000, keepAliveTimeoutMs: 65_000, maxConnections: 10 });
    const server = served.gateway.server!;
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout, server.maxConnections]).toEqual([2_000, 4_000, 65_000, 10]);
    // a request timeout below the default headers timeout takes the headers timeout down with it
    await using short = await serve(system, { requestTimeoutMs: 500 });
    expect([short.gateway.server!.headersTimeout, short.gateway.server!.requestTimeout]).toEqual([500, 500]);
  });

  it('refuses bad limits with a TypeError naming the option', async () => {
    await using system = await startSystem({ workers: 0 });
    const make = (options: object) => () => createGateway(system, { auth: false, logger: captureLogs().logger, metrics: false, ...options });
    expect(make({ requestTimeoutMs: -1 })).toThrow(/"requestTimeoutMs"/);
    expect(make({ headersTimeoutMs: 1.5 })).toThrow(/"headersTimeoutMs"/);
    expect(make({ keepAliveTimeoutMs: 'soon' })).toThrow(/"keepAliveTimeoutMs"/);
    expect(make({ maxConnections: 0 })).toThrow(/"maxConnections"/);
    expect(make({ headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 })).toThrow(/"headersTimeoutMs" .* must not exceed "requestTimeoutMs"/);
  });

  // Regression (issue 18, item 12): a slow-body connection stayed open past 100 s (Node's default requestTimeout is 300 s).
  it('a client that sends its body too slowly is answered 408 and cut off at requestTimeoutMs', async () => {
    await using system = await startSystem({ workers: 1 });
    await system.spawn(fixture('ops-service'), { name: 'service' });
    const { logger, lines } = captureLogs();
    await using served = await serve(system, { logger, requestTimeoutMs: 300 }, (g) => g.route(echo));
    const slow = await open(served.port);
    slow.socket.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"a":');
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(slow.received()).toContain('"code":"TROUPE_ERR_HTTP_REQUEST_TIMEOUT"');
    expect(lines.some((l) => l.msg === 'request timed out' && l.code === 'ERR_HTTP_REQUEST_TIMEOUT')).toBe(true);
    // the server still serves
    const fine = await fetch(`${served.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await fine.json()).toEqual({ a: 1 });
  });

  it('closes connections past maxConnections at once; the open ones keep being served', async () => {
    await using system = await startSystem({ workers: 0 });
    await using served = await serve(system, { maxConnections: 2 });
    const ask = 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n';
    const kept = [await open(served.port), await open(served.port)];
    for (const connection of kept) {
      connection.socket.write(ask);
      await connection.data;
      expect(connection.received()).toMatch(/^HTTP\/1\.1 200 OK/);
    }
    const dropped = new Promise((resolve) => served.gateway.server!.once('drop', resolve));
    // The kernel may complete the handshake before node refuses the connection, or reset it first.
    const third = await open(served.port).catch(() => undefined);
    if (third !== undefined) {
      third.socket.write(ask);
      await third.closed;
      expect(third.received()).toBe('');
    }
    await dropped;
    for (const connection of kept) {
      const before = connection.received().length;
      const more = new Promise<void>((resolve) => connection.socket.once('data', () => resolve()));
      connection.socket.write(ask);
      await more;
      expect(connection.received().slice(before)).toMatch(/^HTTP\/1\.1 200 OK/);
      connection.socket.destroy();
    }
  });
});
