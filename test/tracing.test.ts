/**
 * OpenTelemetry traces (the `tracing` option) with the real SDK: spans in
 * this process go to its in-memory exporter, and the workers' (set up by a
 * workerPreload module, as an application's would be) over OTLP/HTTP to a
 * loopback receiver started here. A message handled is a span, child of the
 * span it was sent in, through asks, replies, forwards, tells, the same-thread
 * path and lanes between threads; the gateway continues a `traceparent` and
 * returns one; sampling is decided once at the edge; a malformed header is
 * ignored.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActorSystem, type ActorRef } from 'troupe';
import { parseTraceparent } from '../dist/src/codec/trace-context.js';
import type { SeenSpan } from './fixtures/span-hop.js';
import { startNats } from '../bench/nats-server.js';
import { fixture } from './helpers.js';
import { screenshotWaterfall } from './trace-waterfall.js';
import { request, serve } from './ops-helpers.js';

const hop = fixture('span-hop');

/** The sampler of this process, switched per test (parent-based, as the issue prescribes, around a ratio). */
class SwitchSampler implements Sampler {
  inner: Sampler = new ParentBasedSampler({ root: new AlwaysOnSampler() });
  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links);
  }
  toString(): string {
    return `Switch(${this.inner.toString()})`;
  }
}

/** An OTLP/HTTP (JSON) receiver on loopback: what a collector would get from the workers. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  service: string;
  startNs: bigint;
  endNs: bigint;
}
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly #server: Server;
  #waiters: (() => void)[] = [];
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: any[] }[] }[] };
        for (const resource of body.resourceSpans as { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: any[] }[] }[]) {
          const service = resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const scope of resource.scopeSpans) {
            for (const span of scope.spans) {
              const attributes: Record<string, unknown> = {};
              for (const { key, value } of span.attributes ?? []) attributes[key] = value.stringValue ?? (value.intValue === undefined ? value : Number(value.intValue));
              this.spans.push({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? '',
                name: span.name,
                kind: span.kind,
                attributes,
                service,
                startNs: BigInt(span.startTimeUnixNano),
                endNs: BigInt(span.endTimeUnixNano),
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
  }

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/traces`;
  }

  /** Resolves with the first answer of `check` that is not undefined, checked as spans arrive. */
  async waitFor<T>(check: (spans: ReceivedSpan[]) => T | undefined): Promise<T> {
    for (;;) {
      const found = check(this.spans);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** The in-memory exporter, telling waiters when spans end (an async handler's span ends after its reply is read). */
class WatchedExporter extends InMemorySpanExporter {
  #waiters: (() => void)[] = [];
  override export(batch: ReadableSpan[], done: (result: { code: number }) => void): void {
    super.export(batch, done);
    for (const wake of this.#waiters.splice(0)) wake();
  }
  async ended(name: string): Promise<ReadableSpan> {
    for (;;) {
      const found = this.getFinishedSpans().find((s) => s.name === name);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}
const memory = new WatchedExporter();
const sampler = new SwitchSampler();
const receiver = new OtlpReceiver();
const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer('test-client');

beforeAll(async () => {
  await receiver.start();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(memory)] }));
});
afterAll(() => receiver.close());
beforeEach(() => {
  memory.reset();
  sampler.inner = new ParentBasedSampler({ root: new AlwaysOnSampler() });
});

const spans = (): ReadableSpan[] => memory.getFinishedSpans();
const named = (name: string): ReadableSpan[] => spans().filter((s) => s.name === name);
const one = (name: string): ReadableSpan => {
  const found = named(name);
  expect(found.map((s) => s.name), `spans named ${name} among ${spans().map((s) => s.name).join(', ')}`).toEqual([name]);
  return found[0]!;
};
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

/** Runs `work` inside a span of the test's own, as an application's code would, and returns its ids. */
async function inClientSpan<T>(name: string, work: () => Promise<T>): Promise<{ result: T; traceId: string; spanId: string; sampled: boolean }> {
  return tracer().startActiveSpan(name, async (span) => {
    try {
      const result = await work();
      const { traceId, spanId, traceFlags } = span.spanContext();
      return { result, traceId, spanId, sampled: (traceFlags & 1) === 1 };
    } finally {
      span.end();
    }
  });
}

describe('tracing on one thread (in-memory exporter)', () => {
  let system: ActorSystem;
  let a: ActorRef;
  let b: ActorRef;
  let c: ActorRef;

  beforeAll(async () => {
    system = await ActorSystem.start({ workers: 0, tracing: true, logLevel: 'silent' });
    [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => system.spawn(hop, { name })));
  });
  afterAll(() => system.shutdown());

  it('a message handled is a span, child of the span it was sent in, and its handler runs inside it', async () => {
    expect(system.tracing).toBe(true);
    const { result, traceId, spanId } = await inClientSpan('client', () => a.ask({ type: 'hop', path: [b, c] }) as Promise<SeenSpan[]>);
    await memory.ended('a hop');
    const [ha, hb, hc] = [one('a hop'), one('b hop'), one('c hop')];
    expect(parentOf(ha)).toBe(spanId);
    expect(parentOf(hb)).toBe(ha.spanContext().spanId);
    expect(parentOf(hc)).toBe(hb.spanContext().spanId);
    for (const span of [ha, hb, hc]) {
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.kind).toBe(SpanKind.SERVER);
      expect(span.attributes['messaging.system']).toBe('troupe');
      expect(span.attributes['troupe.message.type']).toBe('hop');
      expect(span.attributes['troupe.host']).toBe('main');
      expect(span.attributes['troupe.actor.module']).toBe('span-hop');
    }
    // Each handler saw its own span as the active one, also after an await; the user's span inside it is its child.
    expect(result.map((s) => s.spanId)).toEqual([ha, hb, hc].map((s) => s.spanContext().spanId));
    const users = named('user-work');
    expect(users).toHaveLength(3);
    for (const seen of result) {
      const user = users.find((s) => s.spanContext().spanId === seen.userSpanId)!;
      expect(parentOf(user)).toBe(seen.spanId);
      expect(user.spanContext().traceId).toBe(traceId);
      expect(seen.traceId).toBe(traceId);
    }
  });

  it('forward and tell carry the context too; a crashed handler’s span says so', async () => {
    const { spanId } = await inClientSpan('client', () => a.ask({ type: 'fwd', to: b }));
    const fwd = one('a fwd');
    expect(parentOf(fwd)).toBe(spanId);
    expect(parentOf(one('b hop'))).toBe(fwd.spanContext().spanId);

    memory.reset();
    await inClientSpan('client', () => a.ask({ type: 'tell-on', to: b, probe: c }));
    const seen = (await c.ask({ type: 'wait', n: 1 })) as SeenSpan[];
    await memory.ended('c seen');
    const tellOn = one('a tell-on');
    const note = one('b note');
    expect(note.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(note)).toBe(tellOn.spanContext().spanId);
    const seenSpan = one('c seen');
    expect(parentOf(seenSpan)).toBe(note.spanContext().spanId);
    expect(seen[0]!.spanId).toBe(note.spanContext().spanId);

    // Sent in the root context (the application's own choice), a message starts a trace of its own.
    memory.reset();
    const outer = await inClientSpan('client', () => context.with(ROOT_CONTEXT, () => a.ask({ type: 'hop', path: [] })));
    const detached = await memory.ended('a hop');
    expect(parentOf(detached)).toBeUndefined();
    expect(detached.spanContext().traceId).not.toBe(outer.traceId);

    memory.reset();
    await expect(a.ask({ type: 'boom' })).rejects.toThrow();
    const boom = one('a boom');
    expect(boom.status.code).toBe(SpanStatusCode.ERROR);
    expect(boom.events.some((e) => e.name === 'exception')).toBe(true);
    // A message from outside any span is the root of a trace of its own.
    expect(parentOf(boom)).toBeUndefined();
  });

  it('sampling is decided once, at the edge: an unsampled trace stays unsampled through every hop', async () => {
    sampler.inner = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) });
    const unsampled = await inClientSpan('client', () => a.ask({ type: 'hop', path: [b] }) as Promise<SeenSpan[]>);
    expect(unsampled.sampled).toBe(false);
    // No spans; the handlers still ran in the (unsampled) context of the edge, and so did the user's spans.
    expect(spans()).toEqual([]);
    for (const seen of unsampled.result) {
      expect(seen.traceId).toBe(unsampled.traceId);
      expect(seen.spanId).toBe(unsampled.spanId);
      expect(seen.sampled).toBe(false);
    }
    // Roots at ratio 0: not sampled either.
    await a.ask({ type: 'hop', path: [b] });
    expect(spans()).toEqual([]);
    // A sampled parent is followed whatever the root ratio.
    sampler.inner = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0), remoteParentSampled: new AlwaysOnSampler(), localParentSampled: new AlwaysOnSampler() });
    const remote = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true };
    await context.with(trace.setSpanContext(context.active(), remote), () => a.ask({ type: 'hop', path: [b] }));
    expect(parentOf(await memory.ended('a hop'))).toBe(remote.spanId);
    expect(one('b hop').spanContext().traceId).toBe(remote.traceId);
  });

  it('the gateway continues a traceparent, returns one, and ignores a malformed one', async () => {
    await using served = await serve(system, {}, (gateway) => gateway.route({ path: '/hop', actor: 'a', message: () => ({ type: 'hop', path: [b] }) }));
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const answer = await request(`${served.url}/hop`, { method: 'POST', headers: { traceparent: incoming } });
    expect(answer.status).toBe(200);
    await memory.ended('a hop');
    const server = one('POST /hop');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(parentOf(server)).toBe('b7ad6b7169203331');
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(answer.headers.get('traceparent')).toBe(`00-0af7651916cd43dd8448eb211c80319c-${server.spanContext().spanId}-01`);
    expect(parentOf(one('a hop'))).toBe(server.spanContext().spanId);
    expect(parentOf(one('b hop'))).toBe(one('a hop').spanContext().spanId);

    for (const malformed of ['garbage', '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-00000000000000000000000000000000-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra']) {
      memory.reset();
      const refused = await request(`${served.url}/hop`, { method: 'POST', headers: { traceparent: malformed } });
      expect(refused.status).toBe(200);
      await memory.ended('b hop');
      const fresh = parseTraceparent(refused.headers.get('traceparent') ?? undefined)!;
      expect(fresh.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
      const root = one('POST /hop');
      expect(parentOf(root)).toBeUndefined();
      expect(root.spanContext().traceId).toBe(fresh.traceId);
      expect(one('b hop').spanContext().traceId).toBe(fresh.traceId);
    }

    // Not sampled by the client: nothing recorded, and the answer says so.
    memory.reset();
    const quiet = await request(`${served.url}/hop`, { method: 'POST', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' } });
    expect(quiet.status).toBe(200);
    expect(spans()).toEqual([]);
    expect(quiet.headers.get('traceparent')).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
  });

  it('without the option nothing is traced, even with a provider registered', async () => {
    const plain = await ActorSystem.start({ workers: 0 });
    try {
      expect(plain.tracing).toBe(false);
      const x = await plain.spawn(hop, { name: 'x' });
      await using served = await serve(plain, {}, (gateway) => gateway.route({ path: '/hop', actor: 'x', message: () => ({ type: 'hop', path: [] }) }));
      const answer = await request(`${served.url}/hop`, { method: 'POST', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('traceparent')).toBeNull();
      await inClientSpan('client', () => x.ask({ type: 'hop', path: [] }));
      await x.ask({ type: 'hop', path: [] });
      // The user's own spans only: none of troupe's.
      expect(spans().map((s) => s.name).sort()).toEqual(['client', 'user-work', 'user-work', 'user-work']);
    } finally {
      await plain.shutdown();
    }
  });

  it('a schedule’s tick starts a trace of its own, whatever span the schedule was made in', async () => {
    const probe = await system.spawn(hop);
    const { traceId } = await inClientSpan('client', async () => {
      const ticking = system.schedule(20, b, { type: 'note', probe });
      await probe.ask({ type: 'wait', n: 1 });
      ticking.cancel();
    });
    const [seen] = (await probe.ask({ type: 'wait', n: 1 })) as SeenSpan[];
    expect(seen!.traceId).not.toBe('');
    expect(seen!.traceId).not.toBe(traceId);
  });

  it('a tracing SDK that throws costs its spans, never a message', async () => {
    sampler.inner = { shouldSample: () => { throw new Error('sampler on fire'); }, toString: () => 'Throwing' };
    // (No user span here: the fixture's own would throw in the handler, which is the user's code failing.)
    const fresh = await system.spawn(hop);
    for (let i = 0; i < 3; i++) expect(await fresh.ask({ type: 'wait', n: 0 })).toEqual([]);
    expect(spans()).toEqual([]);
    sampler.inner = new ParentBasedSampler({ root: new AlwaysOnSampler() });
    await a.ask({ type: 'hop', path: [] });
    expect((await memory.ended('a hop')).name).toBe('a hop');
  });

  it('refuses a tracing option that is not a boolean', async () => {
    await expect(ActorSystem.start({ workers: 0, tracing: 'yes' as never })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION' });
  });
});

describe('tracing across threads (OTLP/HTTP to a loopback receiver)', () => {
  it('a trace context survives full lanes (overflow), checksums and a second lane, unsampled, on every message', async () => {
    sampler.inner = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) });
    process.env.TROUPE_TEST_OTLP_URL = receiver.url;
    const system = await ActorSystem.start({ workers: 2, tracing: true, checksum: true, laneBytes: 8192, logLevel: 'silent', spareWorker: false, workerPreload: [fixture('otel-worker-setup')] });
    try {
      const [relay, probe] = await Promise.all([system.spawn(hop, { host: 0 }), system.spawn(hop, { host: 1 })]);
      const n = 3000;
      const sent = await inClientSpan('client', async () => {
        // Far more than an 8 KiB lane holds: most wait in the sender's overflow and are copied from there.
        for (let i = 0; i < n; i++) relay.tell({ type: 'note', probe });
      });
      expect(sent.sampled).toBe(false);
      // Every message ran in the client's (unsampled) context: one distinct span context, n messages in it.
      const seen = await probe.ask({ type: 'wait', n, distinct: true }, { timeoutMs: 30_000 });
      expect(seen, JSON.stringify(seen)).toEqual([[`${sent.traceId}/${sent.spanId}/false`, n]]);
      expect(system.stats().total.deadLetters).toBe(0);
    } finally {
      await system.shutdown();
      delete process.env.TROUPE_TEST_OTLP_URL;
    }
  });

  it('a worker exports the spans its batch processor holds before it ends', async () => {
    process.env.TROUPE_TEST_OTLP_URL = receiver.url;
    process.env.TROUPE_TEST_BATCH = '1';
    const system = await ActorSystem.start({ workers: 1, tracing: true, workerPreload: [fixture('otel-worker-setup')], spareWorker: false, logLevel: 'silent' });
    try {
      const batched = await system.spawn(hop, { name: 'batched', host: 0 });
      const { traceId } = await inClientSpan('client', () => batched.ask({ type: 'hop', path: [] }));
      expect(receiver.spans.some((s) => s.traceId === traceId)).toBe(false);
      await system.shutdown();
      expect(receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.name).sort()).toEqual(['batched hop', 'user-work']);
    } finally {
      await system.shutdown();
      delete process.env.TROUPE_TEST_OTLP_URL;
      delete process.env.TROUPE_TEST_BATCH;
    }
  });

  it('one gateway request is one trace: main, then a worker, then another worker, with correct parents', async () => {
    process.env.TROUPE_TEST_OTLP_URL = receiver.url;
    const system = await ActorSystem.start({ workers: 2, tracing: true, workerPreload: [fixture('otel-worker-setup')], spareWorker: false });
    try {
      const [w0, w1] = await Promise.all([system.spawn(hop, { name: 'w0', host: 0 }), system.spawn(hop, { name: 'w1', host: 1 })]);
      // Main's spans go to the receiver too.
      const exporter = new OTLPTraceExporter({ url: receiver.url });
      trace.disable();
      const resource = resourceFromAttributes({ 'service.name': 'troupe-test-main' });
      trace.setGlobalTracerProvider(new BasicTracerProvider({ resource, sampler, spanProcessors: [new SimpleSpanProcessor(memory), new SimpleSpanProcessor(exporter)] }));
      await using served = await serve(system, {}, (gateway) => gateway.route({ path: '/hop', actor: 'w0', message: () => ({ type: 'hop', path: [w1] }) }));
      const answer = await request(`${served.url}/hop`, { method: 'POST', headers: { traceparent: '00-5b8aa5a2d2c872e8321cf37308d69df2-051581bf3cb55c13-01' } });
      expect(answer.status).toBe(200);
      const traceId = '5b8aa5a2d2c872e8321cf37308d69df2';
      const found = await receiver.waitFor((all) => {
        const mine = all.filter((s) => s.traceId === traceId);
        const server = mine.find((s) => s.name === 'POST /hop');
        const first = mine.find((s) => s.name === 'w0 hop');
        const second = mine.find((s) => s.name === 'w1 hop');
        const users = mine.filter((s) => s.name === 'user-work');
        return server && first && second && users.length === 2 ? { server, first, second, all: mine } : undefined;
      });
      expect(found.server.parentSpanId).toBe('051581bf3cb55c13');
      expect(found.first.parentSpanId).toBe(found.server.spanId);
      expect(found.second.parentSpanId).toBe(found.first.spanId);
      expect(found.first.attributes['troupe.host']).toBe('0');
      expect(found.second.attributes['troupe.host']).toBe('1');
      // Three threads: the gateway's (main) and the two workers'.
      const threads = new Set([found.first.attributes['thread.id'], found.second.attributes['thread.id']]);
      expect(threads.size).toBe(2);
      expect(threads.has(0)).toBe(false);
      const [seenFirst, seenSecond] = answer.json as SeenSpan[];
      expect(seenFirst!.spanId).toBe(found.first.spanId);
      expect(seenSecond!.spanId).toBe(found.second.spanId);
      expect(answer.headers.get('traceparent')).toBe(`00-${traceId}-${found.server.spanId}-01`);
      // The user's spans in the handlers, each the child of its handler's span, on its thread.
      for (const handler of [found.first, found.second]) expect(found.all.some((s) => s.name === 'user-work' && s.parentSpanId === handler.spanId)).toBe(true);
      const shot = fileURLToPath(new URL('../test-artifacts/trace.png', import.meta.url));
      await screenshotWaterfall(shot, traceId, found.all);
      expect(statSync(shot).size).toBeGreaterThan(1000);
      await exporter.shutdown();
    } finally {
      await system.shutdown();
      delete process.env.TROUPE_TEST_OTLP_URL;
    }
  });
});

describe('tracing across cluster nodes (a real nats-server)', () => {
  it('an ask to an actor on another node carries the trace: its span is the child of the asker’s', async () => {
    const nats = await startNats();
    const timing = { heartbeatMs: 100, suspectAfterMs: 600, downAfterMs: 1500 };
    const here = await ActorSystem.start({ workers: 0, tracing: true, logLevel: 'silent', cluster: { servers: nats.url, name: 'traces', node: 'here', ...timing } });
    const up = here.cluster.events.waitFor('nodeUp', (e) => e.node === 'there', { timeoutMs: 20_000 });
    const there = await ActorSystem.start({ workers: 0, tracing: true, logLevel: 'silent', cluster: { servers: nats.url, name: 'traces', node: 'there', ...timing } });
    try {
      await up;
      const local = await here.spawn(hop, { name: 'near' });
      const remote = await here.spawn(hop, { node: 'there', name: 'far' });
      memory.reset();
      const { result, traceId } = await inClientSpan('client', () => local.ask({ type: 'hop', path: [remote] }) as Promise<SeenSpan[]>);
      const near = await memory.ended('near hop');
      const far = await memory.ended('far hop');
      expect(near.spanContext().traceId).toBe(traceId);
      expect(far.spanContext().traceId).toBe(traceId);
      expect(parentOf(far)).toBe(near.spanContext().spanId);
      expect(result[1]!.spanId).toBe(far.spanContext().spanId);
    } finally {
      await Promise.all([here.shutdown(), there.shutdown()]);
      await nats.stop();
    }
  });
});
