/**
 * troupe/agents end to end: real worker threads, a real SQLite journal, the
 * official OpenAI and Anthropic SDKs as clients of a loopback server that
 * speaks both APIs (bench/llm-server.ts) and bills every token it serves.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteStore } from 'troupe/persistence';
import { anthropic, createAgents, openai, type Agents, type ProviderLedger } from 'troupe/agents';
import { dir, server, startSystem, stopSystem, system, useLoopbackServer } from './agents-harness.js';

const fixture = (name: string): URL => new URL(`../dist/test/fixtures/workflows/${name}.js`, import.meta.url);
useLoopbackServer('troupe-agents-', 5);

async function boot(name: string, providers?: Record<string, ReturnType<typeof openai>>): Promise<Agents> {
  await startSystem({ workers: 2, store: sqliteStore({ path: join(dir, `${name}.db`) }) });
  return createAgents(system!, {
    providers: providers ?? {
      gpt: openai({ model: 'gpt-4o-mini', apiKey: 'test', baseURL: server.openaiBaseURL }),
      claude: anthropic({ model: 'claude-sonnet-4-5', apiKey: 'test', baseURL: server.anthropicBaseURL }),
    },
  });
}

/**
 * The cancel reaches the provider from the run (or its step's runner), the ledger question from here: two senders,
 * no order between them. Ask until the provider has let go of every call (a cancel that never arrives times the test out).
 */
async function untilNothingInFlight(agents: Agents): Promise<void> {
  await untilLedger(agents, (gpt) => gpt.inFlight === 0);
}

async function untilLedger(agents: Agents, done: (gpt: ProviderLedger) => boolean): Promise<void> {
  for (;;) {
    const [gpt] = await agents.ledger();
    if (done(gpt)) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('workflows', () => {
  it('runs the review workflow: two APIs, a streamed step, a human wait, a journaled tool; the ledger equals the bill', async () => {
    const agents = await boot('review');
    const ledgerPath = join(dir, 'review.log');
    writeFileSync(ledgerPath, '');
    const run = await agents.start(fixture('review'), { topic: 'actors', ledgerPath }, { id: 'review-1' });
    const seen: string[] = [];
    const tokens: string[] = [];
    run.events.onAny((e) => seen.push(`${e.type}:${e.step ?? ''}`));
    run.events.on('token', (e) => tokens.push(String(e.text)));
    await run.events.waitFor('waiting', (e) => e.step === 'approve');
    expect(await run.signal('approval', { ok: true, by: 'ada' })).toBe(true);
    const result = await run.result();
    expect((result.draft as any).text).toBe('re: Draft: actors');
    expect((result.critique as any).text).toBe('re: Critique: re: Draft: actors');
    expect(tokens.join('')).toBe('re: Critique: re: Draft: actors');
    expect(result.publish).toEqual({ published: true, approvedBy: 'ada' });
    expect(readFileSync(ledgerPath, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(seen).toEqual(expect.arrayContaining(['stepStarted:draft', 'stepFinished:draft', 'usage:critique', 'waiting:approve', 'stepFinished:publish']));

    const status = await run.status();
    const bill = server.bill();
    expect(bill.completed).toBe(2);
    expect(status.usage.inputTokens).toBe(bill.inputTokens);
    expect(status.usage.outputTokens).toBe(bill.outputTokens);
    const ledger = await agents.ledger();
    expect(ledger.reduce((a, l) => a + l.inputTokens + l.outputTokens, 0)).toBe(bill.inputTokens + bill.outputTokens);

    // Idempotent start: the same id is the same run, nothing called again.
    const again = await agents.start(fixture('review'), { topic: 'other', ledgerPath }, { id: 'review-1' });
    expect(await again.result()).toEqual(result);
    expect(server.bill().requests).toBe(2);
  });

  it('fans steps out up to the run concurrency and joins them', async () => {
    const agents = await boot('fanout');
    server.configure({ latencyMs: 150 });
    const run = await agents.start(fixture('fanout'), { topic: 'x' });
    const result = await run.result();
    expect(String(result.join).split(' | ')).toHaveLength(6);
    expect(server.peakConcurrent()).toBeGreaterThan(1);
    expect(server.peakConcurrent()).toBeLessThanOrEqual(3);
  });

  it('runs spread steps on the step runners of every worker: llm, tool and wait journaled through the run', async () => {
    const agents = await boot('spread');
    const run = await agents.start(fixture('spread'), { topic: 'cores' });
    await run.events.waitFor('waiting', (e) => e.step === 'part0');
    expect((await run.status()).steps.part0).toMatchObject({ status: 'running', attempt: 1 });
    expect(await run.signal('go', { ok: 1 })).toBe(true);
    const result = await run.result();
    expect(result.join).toBe(2); // four parts in turn over two workers' runners
    for (let i = 0; i < 4; i++) {
      const part = result[`part${i}`] as any;
      expect(part.text).toBe(`re: part ${i} of cores`);
      expect(part.tool).toBe(part.thread);
    }
    expect((result.part0 as any).signal).toEqual({ ok: 1 });
    const status = await run.status();
    expect(status.usage.calls).toBe(4);
    expect(status.usage.inputTokens + status.usage.outputTokens).toBe(server.bill().inputTokens + server.bill().outputTokens);
  });

  it('cancel reaches a spread step: its wait ends and nothing stays in flight', async () => {
    const agents = await boot('spread-cancel');
    server.inject({ kind: 'hang' }, { count: 4 });
    const run = await agents.start(fixture('spread'), { topic: 'stuck' });
    await new Promise<void>((resolve) => {
      const off = server.onRequest(() => server.bill().requests >= 4 && (off(), resolve()));
      if (server.bill().requests >= 4) (off(), resolve());
    });
    await run.cancel();
    await expect(run.result()).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKFLOW_CANCELLED' });
    await untilNothingInFlight(agents);
  });

  it('starts a run without input: its steps get null', async () => {
    const agents = await boot('no-input');
    const run = await agents.start(fixture('no-input'));
    expect(await run.result()).toEqual({ look: { input: null }, after: 'saw {"input":null}' });
    expect((await agents.list()).find((r) => r.id === run.id)?.status).toBe('finished');
  });

  it("asks a finished run again when its actor ends (idle) just as the question arrives", async () => {
    await startSystem({ workers: 2, store: sqliteStore({ path: join(dir, 'idle.db') }) });
    const agents = createAgents(system!, { keepFinishedMs: 1, providers: { gpt: openai({ model: 'm', apiKey: 'test', baseURL: server.openaiBaseURL }) } });
    const run = await agents.start(fixture('no-input'));
    await run.result();
    // Each question finds the actor ending, ended, or activated again from its journal: always an answer.
    for (let i = 0; i < 100; i++) expect((await run.status()).status).toBe('finished');
  });

  it('retries a failing step as attempts 1, 2, 3 with doubling backoff, then fails the run', async () => {
    const agents = await boot('flaky');
    const run = agents.get('flaky-always');
    const started: number[] = [];
    const delays: number[] = [];
    run.events.on('stepStarted', (e) => started.push(e.attempt as number));
    run.events.on('stepRetried', (e) => delays.push(e.delayMs as number));
    await agents.start(fixture('flaky'), { mode: 'always' }, { id: 'flaky-always' });
    await expect(run.result()).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKFLOW_FAILED', message: expect.stringContaining('attempt 3 fails') });
    expect(started).toEqual([1, 2, 3]);
    expect(delays).toEqual([10, 20]);
    expect((await run.status()).steps.flaky).toMatchObject({ status: 'failed', attempt: 3 });
  });

  it('a retried step is a new attempt: its llm call is made again, and the finished step says which attempt', async () => {
    const agents = await boot('flaky-once');
    const run = await agents.start(fixture('flaky'), { mode: 'once' });
    expect((await run.result()).flaky).toEqual({ attempt: 2, text: 're: judge me' });
    expect(server.bill().byPrompt['judge me']).toEqual({ requests: 2, completed: 2 });
    expect((await run.status()).steps.flaky).toMatchObject({ status: 'done', attempt: 2 });
  });

  it('a bad graph is refused at start with every problem named', async () => {
    const agents = await boot('bad');
    await expect(agents.start(fixture('cyclic'), {})).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKFLOW_DEFINITION', message: expect.stringMatching(/cycle: .*unknown step "nowhere".*needs itself|needs unknown step "nowhere".*cycle/s) });
  });
});

describe('providers', () => {
  it('retries 429s (honouring retry-after) and 500s; a malformed stream fails the attempt typed and the step retries', async () => {
    const agents = await boot('retries');
    server.inject({ kind: 'status', status: 429, retryAfterMs: 50 }, { count: 2 });
    server.inject({ kind: 'status', status: 500 });
    const run = await agents.start(fixture('single'), { prompt: 'hello' });
    expect(((await run.result()).only as any).text).toBe('re: hello');
    const [gpt] = await agents.ledger();
    expect(gpt.rateLimited).toBe(2);
    expect(gpt.attempts).toBe(4);

    server.inject({ kind: 'malformed' });
    const retried: string[] = [];
    const streamed = await agents.start(fixture('single'), { prompt: 'stream me please now', stream: true, provider: 'claude' });
    streamed.events.on('stepRetried', (e) => retried.push((e.error as any).code));
    expect(((await streamed.result()).only as any).text).toBe('re: stream me please now');
    expect(retried).toEqual(['TROUPE_ERR_LLM_MALFORMED']);
  });

  it("one 429 holds back only its own call: another call goes on while it waits out its retry-after", async () => {
    const agents = await boot('lone-429');
    server.inject({ kind: 'status', status: 429, retryAfterMs: 60_000 }, { match: (info) => info.lastUser === 'slow' });
    const slow = await agents.start(fixture('single'), { prompt: 'slow' });
    await new Promise<void>((resolve) => {
      const off = server.onRequest(() => (off(), resolve()));
      if (server.bill().requests > 0) (off(), resolve());
    });
    // The 429 has been answered once the provider counts it; then a second run's call must not wait for it.
    await untilLedger(agents, (gpt) => gpt.rateLimited === 1);
    const fast = await agents.start(fixture('single'), { prompt: 'fast' });
    await fast.result();
    expect(server.log.map((entry) => `${entry.lastUser}:${entry.status}`)).toEqual(['slow:429', 'fast:200']);
    expect((await agents.ledger())[0].queued).toBe(1); // slow still waits out its minute
    await slow.cancel();
  });

  it('holds one requests-per-window budget across runs on every worker', async () => {
    const agents = await boot('limits', { gpt: openai({ model: 'm', apiKey: 'test', baseURL: server.openaiBaseURL, limits: { rpm: 300, windowMs: 1000 } }) }); // 5 per second
    const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => agents.start(fixture('single'), { prompt: `p${i}` })));
    await Promise.all(runs.map((r) => r.result()));
    expect(server.bill().completed).toBe(12);
    expect(server.peakRequests(1000)).toBeLessThanOrEqual(5);
  });

  it('cancel aborts an in-flight call at once', async () => {
    const agents = await boot('cancel');
    server.inject({ kind: 'hang' });
    const run = await agents.start(fixture('single'), { prompt: 'never' });
    await run.events.waitFor('stepStarted');
    // The hung request has reached the server (subscribe first, then look: no arrival slips between).
    await new Promise<void>((resolve) => {
      const off = server.onRequest(() => (off(), resolve()));
      if (server.bill().requests > 0) (off(), resolve());
    });
    await run.cancel();
    await expect(run.result()).rejects.toMatchObject({ code: 'TROUPE_ERR_WORKFLOW_CANCELLED' });
    await untilNothingInFlight(agents);
  });
});
