/**
 * The agents layer's pure parts: the budget (rolling windows, estimates
 * settled by the API's usage, a 429's pause, the concurrency cap), the
 * circuit breaker, backoff, DAG validation, the run journal's bindings of
 * waits to signals, and Liquid prompts.
 */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../dist/src/agents/rate-limiter.js';
import { CircuitBreaker } from '../dist/src/agents/circuit-breaker.js';
import { backoffMs } from '../dist/src/agents/backoff.js';
import { defineWorkflow, WorkflowDefinitionError, renderPrompt, openai, anthropic } from 'troupe/agents';
import { applyRunEvent, emptyRun } from '../dist/src/agents/run-journal.js';

describe('the rate limiter', () => {
  it('holds requests per rolling window and says when the next fits', () => {
    const limiter = new RateLimiter({ rpm: 600, windowMs: 1000 }); // 10 per second
    const permits = [];
    for (let i = 0; i < 10; i++) {
      const got = limiter.tryAcquire(1, 100 + i);
      expect(got.ok).toBe(true);
      if (got.ok) permits.push(got.permit);
    }
    const refused = limiter.tryAcquire(1, 200);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.waitMs).toBeGreaterThan(900); // the first expires at 100 + 1000 + margin
    for (const permit of permits) limiter.settle(permit, 1);
    expect(limiter.tryAcquire(1, 1150).ok).toBe(false); // still in the window (plus the margin)
    expect(limiter.tryAcquire(1, 1250).ok).toBe(true);
  });

  it('counts a request from its answer when that came late (a cold connection), at most a quarter window after it left', () => {
    const limiter = new RateLimiter({ rpm: 60, windowMs: 1000 }); // 1 per second, margin 100 ms, slack 250 ms
    const late = limiter.tryAcquire(1, 0);
    expect(late.ok).toBe(true);
    if (late.ok) limiter.answered(late.permit, 180); // the server may have seen it as late as 180
    expect(limiter.tryAcquire(1, 1150).ok).toBe(false); // 0 + 1000 + 100 has passed, 180 + 1000 + 100 has not
    expect(limiter.tryAcquire(1, 1281).ok).toBe(true);
    const slow = new RateLimiter({ rpm: 60, windowMs: 1000 });
    const call = slow.tryAcquire(1, 0);
    if (call.ok) slow.answered(call.permit, 3000); // a slow answer: counted from 250, not 3000 (nor 0)
    expect(slow.tryAcquire(1, 1349).ok).toBe(false);
    expect(slow.tryAcquire(1, 1351).ok).toBe(true);
  });

  it('counts tokens by estimate until the API bills, then by the bill', () => {
    const limiter = new RateLimiter({ tpm: 60_000, windowMs: 1000 }); // 1,000 tokens per second
    const a = limiter.tryAcquire(600, 0);
    expect(a.ok).toBe(true);
    expect(limiter.tryAcquire(600, 1).ok).toBe(false); // 1,200 > 1,000
    if (a.ok) limiter.settle(a.permit, 100, 50); // it cost 100, not 600
    expect(limiter.tryAcquire(600, 2).ok).toBe(true);
  });

  it('lets one call larger than the whole budget go alone into an empty window', () => {
    const limiter = new RateLimiter({ tpm: 60, windowMs: 1000 });
    expect(limiter.tryAcquire(5000, 0).ok).toBe(true);
    expect(limiter.tryAcquire(1, 10).ok).toBe(false);
  });

  it('learns the output size for estimates, capped by maxTokens', () => {
    const limiter = new RateLimiter({});
    expect(limiter.estimate(10, 100)).toBe(110); // the first guess (256) is capped
    for (let i = 0; i < 40; i++) {
      const got = limiter.tryAcquire(1, i);
      if (got.ok) limiter.settle(got.permit, 20, 20);
    }
    expect(limiter.estimate(10, 1024)).toBeLessThan(40);
  });

  it('caps concurrency until a call settles, and pauses everything for a retry-after', () => {
    const limiter = new RateLimiter({ concurrency: 2 });
    const a = limiter.tryAcquire(1, 0);
    expect(limiter.tryAcquire(1, 0).ok).toBe(true);
    const third = limiter.tryAcquire(1, 0);
    expect(third.ok).toBe(false);
    if (!third.ok) expect(third.waitMs).toBe(Infinity);
    if (a.ok) limiter.settle(a.permit, undefined);
    limiter.pauseUntil(500);
    const paused = limiter.tryAcquire(1, 100);
    expect(paused).toEqual({ ok: false, waitMs: 400 });
    expect(limiter.tryAcquire(1, 500).ok).toBe(true);
  });
});

describe('the circuit breaker', () => {
  it('opens after consecutive failures, lets one probe through after the cooldown, closes on its success', () => {
    const breaker = new CircuitBreaker({ failures: 3, cooldownMs: 1000 });
    for (let i = 0; i < 2; i++) breaker.failed(i);
    expect(breaker.allow(5)).toBe(true);
    breaker.failed(10);
    expect(breaker.state(10)).toBe('open');
    expect(breaker.allow(500)).toBe(false);
    expect(breaker.retryInMs(500)).toBe(510);
    expect(breaker.allow(1010)).toBe(true); // the probe
    expect(breaker.allow(1011)).toBe(false); // only one
    breaker.failed(1020);
    expect(breaker.state(1500)).toBe('open'); // the probe failed: open again
    expect(breaker.allow(2020)).toBe(true);
    breaker.succeeded();
    expect(breaker.state(2021)).toBe('closed');
  });
});

describe('backoff', () => {
  it('honours retry-after, else doubles with jitter up to the ceiling', () => {
    const delays = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(1, delays, 2500)).toBe(1000);
    expect(backoffMs(1, delays, 300)).toBe(300);
    expect(backoffMs(1, delays, undefined, () => 1)).toBe(100);
    expect(backoffMs(3, delays, undefined, () => 1)).toBe(400);
    expect(backoffMs(3, delays, undefined, () => 0)).toBe(200);
    expect(backoffMs(10, delays, undefined, () => 1)).toBe(1000);
  });
});

describe('workflow definitions', () => {
  it('names every cycle, unknown need, self-need and duplicate id in one typed error', () => {
    let error: WorkflowDefinitionError | undefined;
    try {
      defineWorkflow({
        steps: [
          { id: 'a', needs: ['c'], run: () => 1 },
          { id: 'b', needs: ['a'], run: () => 2 },
          { id: 'c', needs: ['b'], run: () => 3 },
          { id: 'd', needs: ['nowhere'], run: () => 4 },
          { id: 'f', run: () => 5 },
          { id: 'f', run: () => 5 },
          { id: 'e', needs: ['e'], run: () => 6 },
        ],
      });
    } catch (e) {
      error = e as WorkflowDefinitionError;
    }
    expect(error?.code).toBe('TROUPE_ERR_WORKFLOW_DEFINITION');
    expect(error!.problems).toContain('duplicate step id "f"');
    expect(error!.problems).toContain('step "d" needs unknown step "nowhere"');
    expect(error!.problems).toContain('step "e" needs itself');
    expect(error!.problems.some((p) => /^cycle: (a → c → b → a|b → a → c → b|c → b → a → c)$/.test(p))).toBe(true);
  });

  it('orders steps so every need comes first, declaration order among the ready', () => {
    const wf = defineWorkflow({ steps: { z: { needs: ['x', 'y'], run: () => 0 }, y: { run: () => 0 }, x: { needs: ['y'], run: () => 0 } } });
    expect(wf.order).toEqual(['y', 'x', 'z']);
    expect(() => defineWorkflow({ steps: {} })).toThrow(/at least one step/);
    expect(() => defineWorkflow({ steps: { a: { run: () => 0, bogus: 1 } as any } })).toThrow(/unknown key "bogus"/);
    expect(() => defineWorkflow({ steps: { 'a/b': { run: () => 0 } } })).toThrow(/without "\/"/);
  });
});

describe('the run journal', () => {
  it('binds the n-th wait for a name to the n-th signal of that name, whichever came first', () => {
    const run = emptyRun();
    applyRunEvent(run, { t: 'signal', name: 'ok', payload: 'first' });
    applyRunEvent(run, { t: 'wait', key: 's/wait/ok/0', name: 'ok', deadline: undefined });
    applyRunEvent(run, { t: 'wait', key: 's/wait/ok/1', name: 'ok', deadline: undefined });
    applyRunEvent(run, { t: 'wait', key: 's/wait/ok/0', name: 'ok', deadline: undefined }); // a replayed wait binds once
    applyRunEvent(run, { t: 'signal', name: 'ok', payload: 'second' });
    expect(run.waits['s/wait/ok/0'].index).toBe(0);
    expect(run.waits['s/wait/ok/1'].index).toBe(1);
    expect(run.signals.ok).toEqual(['first', 'second']);
  });

  it('sums usage per run, step and provider', () => {
    const run = emptyRun();
    applyRunEvent(run, { t: 'call', key: 'a/1/llm/0', step: 'a', value: {}, usage: { provider: 'gpt', inputTokens: 10, outputTokens: 5, cost: 0.5 } });
    applyRunEvent(run, { t: 'call', key: 'b/1/llm/0', step: 'b', value: {}, usage: { provider: 'claude', inputTokens: 1, outputTokens: 2, cost: 0.25 } });
    expect(run.usage).toMatchObject({ calls: 2, inputTokens: 11, outputTokens: 7, cost: 0.75 });
    expect(run.usage.byStep.a).toEqual({ calls: 1, inputTokens: 10, outputTokens: 5, cost: 0.5 });
    expect(run.usage.byProvider.claude.outputTokens).toBe(2);
  });
});

describe('prompts and provider options', () => {
  it('renders Liquid with loops and filters; an unknown variable is a typed error', async () => {
    expect(await renderPrompt('Hi {{ name | upcase }}:{% for t in topics %} {{ t }}{% endfor %}', { name: 'ada', topics: ['a', 'b'] })).toBe('Hi ADA: a b');
    await expect(renderPrompt('{{ missing }}', {})).rejects.toMatchObject({ code: 'TROUPE_ERR_PROMPT_TEMPLATE' });
    await expect(renderPrompt('{% if %}', {})).rejects.toMatchObject({ code: 'TROUPE_ERR_PROMPT_TEMPLATE' });
  });

  it('refuses bad provider options where they are written', () => {
    expect(() => openai({ model: '' })).toThrow(/model/);
    expect(() => anthropic({ model: 'm', limits: { rpm: -1 } })).toThrow(/limits.rpm/);
    expect(() => openai({ model: 'm', limits: { rps: 1 } as any })).toThrow(/unknown option/);
    expect(() => openai({ model: 'm', prices: { inputPerMTok: 1 } as any })).toThrow(/outputPerMTok/);
    expect(openai({ model: 'm', limits: { rpm: 5 } }).api).toBe('openai');
  });
});
