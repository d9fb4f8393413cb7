/**
 * The `step` a step's `run(input, step)` gets: llm calls, tools and waits
 * that are journaled in the run, keyed so that a resumed or retried attempt
 * finds what an earlier one already paid for or did:
 *   llm   `<step>/<attempt>/llm/<n>`  (a new attempt calls again)
 *   tool  `<step>/tool/<name>/<n>`    (never run again once journaled)
 *   ask   `<step>/ask/<n>`            (never asked again once journaled)
 *   wait  `<step>/wait/<name>/<n>`    (bound once to the signal it takes)
 * where n counts the calls of that kind (and name) in the attempt, in the
 * order the step makes them: a step's code must make them in the same order
 * each time, as any durable-execution engine asks.
 */
import { isActorRef, type ActorRef } from '../actor/ref.js';
import { InvalidArgumentError } from '../errors.js';
import { UnknownProviderError, WaitTimeoutError, WorkflowCancelledError } from './errors.js';
import type { StepContext } from './define-workflow.js';
import type { LlmRequest, LlmResult } from './llm-types.js';
import { renderPrompt } from './prompt.js';
import type { CompleteReply } from './provider-actor.js';
import type { RunEvent, RunRecord } from './run-journal.js';

/** What a step needs of its run's actor. */
export interface RunRuntime {
  readonly runId: string;
  readonly record: RunRecord;
  readonly providers: Readonly<Record<string, ActorRef>>;
  /** Where events go (the agents' hub on main). */
  readonly hub: ActorRef;
  /** Persists an event through the run actor; resolves once it is durable. */
  journal(event: RunEvent): Promise<void>;
  emit(event: Record<string, unknown>): void;
  /** Resolves with the payload once signal `name` number `index` is journaled. */
  awaitSignal(key: string, name: string, index: number, signal: AbortSignal): Promise<unknown>;
  /** Calls in flight, so a cancel can abort them at their provider. */
  readonly inFlight: Map<string, ActorRef>;
}

const kDefaultLlmTimeoutMs = 3_600_000;
/** A conversation turn, its model calls and tools included. */
const kDefaultAskTimeoutMs = 300_000;

export function stepContext(runtime: RunRuntime, stepId: string, attempt: number, signal: AbortSignal): StepContext {
  const counters = new Map<string, number>();
  const next = (kind: string): number => {
    const n = counters.get(kind) ?? 0;
    counters.set(kind, n + 1);
    return n;
  };
  const results: Record<string, unknown> = {};
  for (const [id, step] of Object.entries(runtime.record.steps)) if (step.status === 'done') results[id] = step.result;
  const checkLive = (): void => {
    if (signal.aborted) throw runtime.record.status === 'cancelled' ? new WorkflowCancelledError(runtime.runId) : (signal.reason ?? new WorkflowCancelledError(runtime.runId));
  };

  return {
    run: runtime.runId,
    id: stepId,
    attempt,
    results,
    signal,

    async llm(provider: string, request: LlmRequest, options?: { timeoutMs?: number }): Promise<LlmResult> {
      const key = `${stepId}/${attempt}/llm/${next('llm')}`;
      if (key in runtime.record.calls) return runtime.record.calls[key] as LlmResult;
      checkLive();
      const ref = runtime.providers[provider];
      if (ref === undefined) throw new UnknownProviderError(provider, Object.keys(runtime.providers));
      const callId = `${runtime.runId}/${key}`;
      runtime.inFlight.set(callId, ref);
      const onAbort = (): void => void ref.tell({ type: 'cancel', callId });
      signal.addEventListener('abort', onAbort, { once: true });
      let reply: CompleteReply;
      try {
        reply = await ref.ask<CompleteReply>(
          { type: 'complete', callId, request, run: runtime.runId, step: stepId, events: runtime.hub },
          { timeoutMs: options?.timeoutMs ?? kDefaultLlmTimeoutMs },
        );
      } catch (error) {
        // A call aborted by the run's signal is the run's cancellation (or timeout), said as such.
        if (signal.aborted && (error as { code?: string }).code === 'TROUPE_ERR_LLM_ABORTED') checkLive();
        throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
        runtime.inFlight.delete(callId);
      }
      const { inputTokens, outputTokens } = reply.result.usage;
      const usage = { provider, inputTokens, outputTokens, cost: reply.cost };
      await runtime.journal({ t: 'call', key, step: stepId, value: reply.result, usage });
      runtime.emit({ type: 'usage', step: stepId, ...usage });
      return reply.result;
    },

    async tool<T>(name: string, fn: (idempotencyKey: string) => T | Promise<T>): Promise<T> {
      const key = `${stepId}/tool/${name}/${next(`tool/${name}`)}`;
      if (key in runtime.record.calls) return runtime.record.calls[key] as T;
      checkLive();
      const value = await fn(`${runtime.runId}/${key}`);
      await runtime.journal({ t: 'call', key, step: stepId, value: value === undefined ? null : value });
      return (value === undefined ? null : value) as T;
    },

    async ask<T>(ref: ActorRef, message: unknown, options?: { timeoutMs?: number }): Promise<T> {
      const key = `${stepId}/ask/${next('ask')}`;
      if (key in runtime.record.calls) return runtime.record.calls[key] as T;
      checkLive();
      // A ref read back from the journal (any re-activation) is plain data: say so, rather than "ask is not a function".
      if (!isActorRef(ref)) throw new InvalidArgumentError(`step.ask(${key}): the first argument must be a live ActorRef (a ref read back from the journal, after any re-activation of the run, is plain data), received ${JSON.stringify(ref) ?? String(ref)}`);
      // The ask itself cannot be called back: a cancel or timeout ends the wait for it.
      let onAbort = (): void => {};
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      let reply: unknown;
      try {
        reply = await Promise.race([ref.ask(message, { timeoutMs: options?.timeoutMs ?? kDefaultAskTimeoutMs }), aborted]);
      } catch (error) {
        if (signal.aborted) checkLive();
        throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      const value = reply === undefined ? null : reply;
      await runtime.journal({ t: 'call', key, step: stepId, value });
      return value as T;
    },

    async waitFor<T>(name: string, options?: { timeoutMs?: number }): Promise<T> {
      const key = `${stepId}/wait/${name}/${next(`wait/${name}`)}`;
      if (runtime.record.waits[key] === undefined) {
        checkLive();
        const timeoutMs = options?.timeoutMs;
        await runtime.journal({ t: 'wait', key, name, deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs });
      }
      const wait = runtime.record.waits[key];
      const arrived = runtime.record.signals[name];
      if (arrived !== undefined && arrived.length > wait.index) return arrived[wait.index] as T;
      runtime.emit({ type: 'waiting', step: stepId, signal: name });
      if (wait.deadline === undefined) return (await runtime.awaitSignal(key, name, wait.index, signal)) as T;
      const timeoutMs = options?.timeoutMs ?? 0;
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new WaitTimeoutError(runtime.runId, name, timeoutMs)), Math.max(0, wait.deadline - Date.now()));
      const both = AbortSignal.any([signal, timeout.signal]);
      try {
        return (await runtime.awaitSignal(key, name, wait.index, both)) as T;
      } finally {
        clearTimeout(timer);
      }
    },

    prompt(template: string, vars?: Record<string, unknown>): Promise<string> {
      return renderPrompt(template, vars);
    },

    emit(name: string, data?: unknown): void {
      runtime.emit({ type: 'custom', step: stepId, name, data });
    },
  };
}
