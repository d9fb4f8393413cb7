/**
 * A provider as an actor: every call to one provider, from any worker, goes
 * through this one actor, so its budget (requests and tokens per window, a
 * concurrency cap) holds for the whole system. It queues calls in order,
 * starts them as the budget allows, retries 429s (honouring retry-after, and
 * pausing every call, since the limit is the account's), 5xx, timeouts and
 * broken connections with backoff, fails fast while its circuit is open,
 * forwards streamed tokens as events, and keeps a token and cost ledger.
 *
 * Each call's handler only takes the reply over (deferReply) and queues it,
 * so the actor's mailbox never waits on the network.
 */
import { defineActor } from '../actor/define-actor.js';
import type { ReplyHandle } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import { InvalidArgumentError } from '../errors.js';
import { backoffMs } from './backoff.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { unseal } from './key-seal.js';
import { LlmAbortedError, LlmApiError, LlmConnectionError, LlmOverloadedError, LlmTimeoutError, LlmUnavailableError } from './errors.js';
import type { LlmAdapter, LlmRequest, LlmResult } from './llm-types.js';
import type { ProviderSpec } from './provider-spec.js';
import { RateLimiter, type Permit } from './rate-limiter.js';

export interface ProviderArgs {
  /** The provider's name in createAgents (for errors and the ledger). */
  name: string;
  spec: ProviderSpec;
  /** Opens the rotated keys `api-key` messages carry (key-seal.ts). */
  sealKey?: string;
}

export type ProviderMessage =
  | { type: 'complete'; callId: string; request: LlmRequest; run?: string; step?: string; events?: ActorRef }
  | { type: 'cancel'; callId: string }
  | { type: 'ledger' }
  /** A rotated API key, sealed (key-seal.ts): calls that start once it is loaded use it (one in flight keeps its client). */
  | { type: 'api-key'; sealed: string };

/** What a `complete` is answered with. */
export interface CompleteReply {
  result: LlmResult;
  /** In the prices' unit; 0 without prices. */
  cost: number;
  /** HTTP attempts this call took. */
  attempts: number;
}

export interface ProviderLedger {
  provider: string;
  model: string;
  calls: number;
  failed: number;
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
  /** 429s the API answered (each retried unless attempts ran out). */
  rateLimited: number;
  queued: number;
  inFlight: number;
}

interface Call {
  callId: string;
  request: LlmRequest;
  run: string | undefined;
  step: string | undefined;
  events: ActorRef | undefined;
  reply: ReplyHandle<CompleteReply>;
  /** Counted once; the output's share of the estimate is taken when the call starts (see pump). */
  inputTokens: number;
  attempts: number;
  abort: AbortController;
  state: 'queued' | 'backoff' | 'running' | 'done';
}

interface ProviderState {
  name: string;
  spec: ProviderSpec;
  sealKey: string | undefined;
  adapter: Promise<LlmAdapter>;
  /** Permits are taken only once the SDK is loaded: a permit's time must be when its request leaves. */
  loaded: boolean;
  limiter: RateLimiter;
  breaker: CircuitBreaker;
  queue: Call[];
  calls: Map<string, Call>;
  wake: NodeJS.Timeout | undefined;
  wakeAt: number;
  /** Until when the latest 429's wait runs: a 429 before then pauses every call. */
  rateLimitedUntil: number;
  ledger: ProviderLedger;
}

const kDefaultMaxTokens = 1024;

async function loadAdapter(name: string, spec: ProviderSpec): Promise<LlmAdapter> {
  const options = { model: spec.model, apiKey: spec.apiKey, baseURL: spec.baseURL, name };
  if (spec.api === 'openai') return (await import('./openai-adapter.js')).openaiAdapter(options);
  return (await import('./anthropic-adapter.js')).anthropicAdapter(options);
}

/** Input tokens, as the common heuristic counts them (four characters a token) before the API says. */
export function inputTokensOf(request: LlmRequest): number {
  let chars = request.system?.length ?? 0;
  for (const message of request.messages) chars += message.content.length;
  return Math.ceil(chars / 4);
}

function checkRequest(request: unknown): asserts request is LlmRequest {
  const r = request as LlmRequest;
  if (r === null || typeof r !== 'object' || !Array.isArray(r.messages) || r.messages.length === 0) {
    throw new InvalidArgumentError('an llm request needs messages: [{ role, content }, ...]');
  }
  for (const m of r.messages) {
    if (m === null || typeof m !== 'object' || typeof m.content !== 'string' || !['system', 'user', 'assistant', 'tool'].includes(m.role)) {
      throw new InvalidArgumentError('each llm message needs a role (system, user, assistant, tool) and a string content');
    }
  }
}

function costOf(spec: ProviderSpec, input: number, output: number): number {
  if (spec.prices === undefined) return 0;
  return (input * spec.prices.inputPerMTok + output * spec.prices.outputPerMTok) / 1_000_000;
}

function fail(state: ProviderState, call: Call, error: unknown): void {
  if (call.state === 'done') return;
  call.state = 'done';
  state.calls.delete(call.callId);
  state.ledger.failed += 1;
  call.reply.fail(error);
}

/** Starts every queued call the budget allows, in order; sets a timer for the rest. */
function pump(state: ProviderState): void {
  if (!state.loaded) return;
  const now = Date.now();
  while (state.queue.length > 0) {
    const call = state.queue[0];
    if (call.state !== 'queued') {
      state.queue.shift();
      continue;
    }
    if (!state.breaker.allow(now)) {
      // Fail fast: the circuit is open, every waiting call would only wait for a server that keeps failing.
      const retryIn = state.breaker.retryInMs(now);
      for (const waiting of state.queue.splice(0)) if (waiting.state === 'queued') fail(state, waiting, new LlmUnavailableError(state.name, retryIn));
      return;
    }
    // Estimated now, not when queued: a call queued behind thousands uses the output the provider sees lately,
    // not the guess of when it arrived (10,000 calls queued at once had reserved 7× their tokens).
    const estimate = state.limiter.estimate(call.inputTokens, call.request.maxTokens ?? kDefaultMaxTokens);
    const acquired = state.limiter.tryAcquire(estimate, now);
    if (!acquired.ok) {
      state.breaker.neutral(); // the probe slot (if it was taken) is not used yet
      if (Number.isFinite(acquired.waitMs)) wakeIn(state, acquired.waitMs);
      return;
    }
    state.queue.shift();
    void attempt(state, call, acquired.permit);
  }
}

function wakeIn(state: ProviderState, ms: number): void {
  const at = Date.now() + ms;
  if (state.wake !== undefined && state.wakeAt <= at) return;
  if (state.wake !== undefined) clearTimeout(state.wake);
  state.wakeAt = at;
  state.wake = setTimeout(() => {
    state.wake = undefined;
    pump(state);
  }, ms);
}

async function attempt(state: ProviderState, call: Call, permit: Permit): Promise<void> {
  call.state = 'running';
  call.attempts += 1;
  state.ledger.attempts += 1;
  const { events, run, step } = call;
  const onToken =
    call.request.stream === true && events !== undefined
      ? (text: string): void => {
          events.tell({ type: 'event', run, event: { type: 'token', step, provider: state.name, text } });
        }
      : undefined;
  try {
    const adapter = await state.adapter;
    state.limiter.restamp(permit, Date.now());
    const result = await adapter.complete(call.request, { signal: call.abort.signal, timeoutMs: state.spec.timeoutMs ?? 60_000, onToken });
    state.limiter.answered(permit, Date.now());
    const { inputTokens, outputTokens } = result.usage;
    state.limiter.settle(permit, inputTokens + outputTokens, outputTokens);
    state.breaker.succeeded();
    const cost = costOf(state.spec, inputTokens, outputTokens);
    state.ledger.calls += 1;
    state.ledger.inputTokens += inputTokens;
    state.ledger.outputTokens += outputTokens;
    state.ledger.cost += cost;
    if ((call.state as Call['state']) !== 'done') {
      call.state = 'done';
      state.calls.delete(call.callId);
      call.reply.send({ result, cost, attempts: call.attempts });
    }
  } catch (error) {
    // An error answer (a 429, a 500) was seen by the server too; a connection that failed may have been.
    state.limiter.answered(permit, Date.now());
    state.limiter.settle(permit, undefined);
    retryOrFail(state, call, error);
  }
  pump(state);
}

function retryOrFail(state: ProviderState, call: Call, error: unknown): void {
  const now = Date.now();
  const retry = state.spec.retry ?? {};
  const attemptsLeft = call.attempts < (retry.attempts ?? 6);
  const delays = { baseDelayMs: retry.baseDelayMs ?? 500, maxDelayMs: retry.maxDelayMs ?? 30_000 };
  if (call.abort.signal.aborted || error instanceof LlmAbortedError) {
    state.breaker.neutral();
    return fail(state, call, new LlmAbortedError(state.name));
  }
  if (error instanceof LlmApiError && error.status === 429) {
    state.breaker.neutral();
    state.ledger.rateLimited += 1;
    const waitMs = backoffMs(call.attempts, delays, error.retryAfterMs);
    // One 429 is this call's: it waits out its retry-after alone, the budget goes on. Another while an earlier
    // one's wait runs says the account's limit is spent (someone else shares it, or the API counts otherwise):
    // then every call waits, as the API asks.
    if (now < state.rateLimitedUntil) state.limiter.pauseUntil(now + waitMs);
    state.rateLimitedUntil = Math.max(state.rateLimitedUntil, now + waitMs);
    if (!attemptsLeft) return fail(state, call, error);
    return retryLater(state, call, waitMs);
  }
  const serverFault = (error instanceof LlmApiError && error.retryable) || error instanceof LlmTimeoutError || error instanceof LlmConnectionError;
  if (!serverFault) {
    state.breaker.neutral();
    return fail(state, call, error);
  }
  state.breaker.failed(now);
  if (!attemptsLeft) return fail(state, call, error);
  const retryAfter = error instanceof LlmApiError ? error.retryAfterMs : undefined;
  retryLater(state, call, backoffMs(call.attempts, delays, retryAfter));
}

/** Back to the head of the queue after `ms` (a cancel meanwhile ends it). */
function retryLater(state: ProviderState, call: Call, ms: number): void {
  call.state = 'backoff';
  setTimeout(() => {
    if (call.state !== 'backoff') return;
    call.state = 'queued';
    state.queue.unshift(call);
    pump(state);
  }, ms);
}

export default defineActor<ProviderState, ProviderMessage, ProviderArgs>({
  init: ({ name, spec, sealKey }) => {
    const state: ProviderState = {
      name,
      spec,
      sealKey,
      adapter: loadAdapter(name, spec),
      loaded: false,
      limiter: new RateLimiter(spec.limits),
      breaker: new CircuitBreaker(spec.breaker),
      queue: [],
      calls: new Map(),
      wake: undefined,
      wakeAt: 0,
      rateLimitedUntil: 0,
      ledger: { provider: name, model: spec.model, calls: 0, failed: 0, attempts: 0, inputTokens: 0, outputTokens: 0, cost: 0, rateLimited: 0, queued: 0, inFlight: 0 },
    };
    const ready = (): void => {
      state.loaded = true;
      pump(state);
    };
    state.adapter.then(ready, ready); // a bad key fails each call, typed; not an unhandled rejection
    return state;
  },
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'complete': {
        const reply = ctx.deferReply<CompleteReply>();
        try {
          checkRequest(msg.request);
        } catch (error) {
          reply.fail(error);
          return;
        }
        if (typeof msg.callId !== 'string' || state.calls.has(msg.callId)) {
          reply.fail(new InvalidArgumentError(`llm call id ${String(msg.callId)} is missing or already in flight`));
          return;
        }
        if (state.queue.length >= (state.spec.maxQueued ?? 100_000)) {
          state.ledger.failed += 1;
          reply.fail(new LlmOverloadedError(state.name, state.spec.maxQueued ?? 100_000));
          return;
        }
        const request = msg.request;
        const call: Call = {
          callId: msg.callId,
          request,
          run: msg.run,
          step: msg.step,
          events: msg.events,
          reply,
          inputTokens: inputTokensOf(request),
          attempts: 0,
          abort: new AbortController(),
          state: 'queued',
        };
        state.calls.set(call.callId, call);
        state.queue.push(call);
        pump(state);
        return;
      }
      case 'cancel': {
        const call = state.calls.get(msg.callId);
        if (call === undefined) return;
        call.abort.abort();
        // A running call fails when its request does; one that waits fails now.
        if (call.state !== 'running') fail(state, call, new LlmAbortedError(state.name));
        return;
      }
      case 'api-key': {
        const reply = ctx.deferReply<void>();
        const apiKey = typeof msg.sealed === 'string' && state.sealKey !== undefined ? unseal(msg.sealed, state.sealKey) : undefined;
        if (apiKey === undefined || apiKey.length === 0) {
          reply.fail(new InvalidArgumentError(`${state.name}: a rotated API key must come sealed from agents.rotateApiKey`));
          return;
        }
        const spec = { ...state.spec, apiKey };
        // The old client serves until the new one is loaded: a key that fails to load leaves the old one in use.
        loadAdapter(state.name, spec).then(
          (adapter) => {
            state.spec = spec;
            state.adapter = Promise.resolve(adapter);
            reply.send(undefined);
          },
          (error: unknown) => reply.fail(error),
        );
        return;
      }
      case 'ledger': {
        let queued = 0;
        for (const call of state.calls.values()) if (call.state !== 'running') queued += 1;
        ctx.reply({ ...state.ledger, queued, inFlight: state.limiter.inFlight });
        return;
      }
    }
  },
  onStop(state) {
    if (state.wake !== undefined) clearTimeout(state.wake);
    for (const call of state.calls.values()) call.abort.abort();
  },
});
