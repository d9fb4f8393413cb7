/**
 * One run of a workflow as a durable actor (persistenceId `troupe.run/<id>`).
 * Its journal is the run (run-journal.ts); its handlers are the only place
 * the run changes: step tasks run outside them (a run's steps run at once,
 * up to the workflow's concurrency) and report back through messages
 * (`journal` asks, `stepEnded` tells) tagged with the activation's nonce,
 * so a task left over from a crashed activation cannot touch the next one.
 *
 * Resuming is what starting is: the first message (`resume`, sent by init)
 * loads the workflow module and starts every ready step. A step's attempt is
 * one past its last journaled failure, so it needs no event of its own (a
 * persist per step saved): a step in flight at the crash runs again as the
 * same attempt, and finds its journaled llm and tool results under the same
 * keys. (Journals written before that still carry `attempt` events; they
 * replay the same way.)
 */
import { randomInt } from 'node:crypto';
import { defineActor } from '../actor/define-actor.js';
import type { ActorContext, ReplyHandle } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import { assertEncodable } from '../codec/validate.js';
import { errorToWire, TroupeError, type WireError } from '../errors.js';
import type { WorkflowDefinition } from './define-workflow.js';
import { StepTimeoutError, WorkflowCancelledError } from './errors.js';
import { loadWorkflow } from './load-workflow.js';
import { applyRunEvent, emptyRun, type RunEvent, type RunRecord } from './run-journal.js';
import { stepContext, type RunRuntime } from './step-context.js';
import type { JournalAnswer, RemoteStep } from './step-runner-actor.js';

export interface WorkflowArgs {
  id: string;
  module: string;
  export: string;
  /** Only at the first start: later activations find it in the journal. */
  input?: unknown;
  providers: Record<string, ActorRef>;
  hub: ActorRef;
  /** The step runners, one per worker, for steps with `spread`. */
  runners: ActorRef[];
  /** How long a finished run's actor stays up for status and result questions. */
  keepMs: number;
}

export type WorkflowMessage =
  | { type: 'resume' }
  | { type: 'journal'; nonce: number; event: RunEvent }
  | { type: 'stepEnded'; nonce: number; step: string; attempt: number; ok: true; value: unknown }
  | { type: 'stepEnded'; nonce: number; step: string; attempt: number; ok: false; error: WireError; retryable: boolean }
  | { type: 'retryStep'; nonce: number; step: string }
  | { type: 'signal'; name: string; payload: unknown }
  | { type: 'awaitSignal'; nonce: number; key: string; name: string; index: number }
  | { type: 'status' }
  | { type: 'cancel' }
  | { type: 'idle'; nonce: number };

/** What `status` answers. */
export interface RunSummary {
  id: string;
  status: RunRecord['status'];
  steps: Record<string, { status: string; attempt: number; error?: WireError }>;
  results: Record<string, unknown>;
  usage: RunRecord['usage'];
  error: RunRecord['error'];
  startedAt: number;
  endedAt: number | undefined;
}

interface Waiter {
  name: string;
  index: number;
  resolve(value: unknown): void;
  /** A wait of a step on a runner: told when the activation ends. */
  fail?(error: unknown): void;
}

interface Activation {
  nonce: number;
  args: WorkflowArgs;
  definition: WorkflowDefinition | undefined;
  /** Steps whose attempt runs in this activation. */
  running: Map<string, { abort: AbortController; attempt: number }>;
  /** Steps waiting out a retry backoff. */
  backingOff: Map<string, NodeJS.Timeout>;
  waiters: Map<string, Waiter>;
  inFlight: Map<string, ActorRef>;
  idleTimer: NodeJS.Timeout | undefined;
  runtime: RunRuntime | undefined;
  /** Steps with `spread` started so far: which runner takes the next. */
  spreadCount: number;
}

interface WorkflowState {
  run: RunRecord;
  /** In memory only: never journaled or snapshotted. */
  live: Activation;
}

/** Step errors no retry can mend. */
const kFinalCodes = new Set(['TROUPE_ERR_INVALID_ARGUMENT', 'TROUPE_ERR_WORKFLOW_CANCELLED', 'TROUPE_ERR_WAIT_TIMEOUT', 'TROUPE_ERR_UNKNOWN_PROVIDER', 'TROUPE_ERR_UNENCODABLE', 'TROUPE_ERR_PROMPT_TEMPLATE', 'TROUPE_ERR_LLM_ABORTED']);

function emit(state: WorkflowState, event: Record<string, unknown>): void {
  state.live.args.hub.tell({ type: 'event', run: state.live.args.id, event: { ...event, at: Date.now() } });
}

/** A step's result, journaled with whatever it leads to (the next steps start, or the run ends). */
interface Finished {
  event: Extract<RunEvent, { t: 'done' }>;
  attempt: number;
}

/** Only once its result is durable: a listener that saw stepFinished can rely on it after any crash. */
function emitFinished(state: WorkflowState, finished: Finished): void {
  emit(state, { type: 'stepFinished', step: finished.event.step, attempt: finished.attempt });
}

function summary(state: WorkflowState): RunSummary {
  const { run, live } = state;
  const steps: RunSummary['steps'] = {};
  const results: Record<string, unknown> = {};
  for (const [id, step] of Object.entries(run.steps)) {
    steps[id] = step.error === undefined ? { status: step.status, attempt: step.attempt } : { status: step.status, attempt: step.attempt, error: step.error };
    if (step.status === 'done') results[id] = step.result;
  }
  // A step's attempt is not journaled when it starts (see above): the activation knows which run now.
  for (const [id, { attempt }] of live.running) steps[id] = { status: 'running', attempt };
  return { id: state.live.args.id, status: run.status, steps, results, usage: run.usage, error: run.error, startedAt: run.startedAt, endedAt: run.endedAt };
}

/**
 * Starts every step whose needs are done, up to the workflow's concurrency;
 * ends the run once every step is done (`done` is journaled with the end, in
 * one write, when the last step's result is what finishes the run).
 */
async function schedule(state: WorkflowState, ctx: ActorContext<WorkflowMessage>, finished?: Finished): Promise<void> {
  const { run, live } = state;
  const definition = live.definition;
  if (run.status !== 'running' || definition === undefined) return;
  if (finished !== undefined) {
    const isDone = (id: string): boolean => run.steps[id]?.status === 'done' || finished.event.step === id;
    if (definition.order.every(isDone)) return end(state, { t: 'end', status: 'finished', at: Date.now() }, ctx, finished);
    await ctx.persist(finished.event);
    emitFinished(state, finished);
    if (run.status !== 'running') return;
  }
  let allDone = true;
  for (const id of definition.order) {
    const record = run.steps[id];
    if (record?.status === 'done') continue;
    allDone = false;
    if (live.running.size >= definition.concurrency) continue;
    if (live.running.has(id) || live.backingOff.has(id)) continue;
    const step = definition.steps.get(id)!;
    if (!step.needs.every((need) => run.steps[need]?.status === 'done')) continue;
    // One past the last failure; an old journal's `attempt` event marks one in flight at the crash (the same again).
    const attempt = (record?.attempt ?? 0) + (record?.status === 'running' ? 0 : 1);
    startStep(state, ctx.self, id, attempt);
  }
  if (allDone) await end(state, { t: 'end', status: 'finished', at: Date.now() }, ctx);
}

function startStep(state: WorkflowState, self: ActorRef<WorkflowMessage>, id: string, attempt: number): void {
  const { live } = state;
  const step = live.definition!.steps.get(id)!;
  const abort = new AbortController();
  live.running.set(id, { abort, attempt });
  emit(state, { type: 'stepStarted', step: id, attempt });
  const nonce = live.nonce;
  const timer = step.timeoutMs === undefined ? undefined : setTimeout(() => abort.abort(new StepTimeoutError(live.args.id, id, step.timeoutMs!)), step.timeoutMs);
  const aborted = new Promise<never>((_, reject) => {
    abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
  });
  aborted.catch(() => {});
  const running = step.spread && live.args.runners.length > 0 ? runRemotely(state, self, id, attempt, abort.signal) : Promise.resolve().then(() => step.run(state.run.input, stepContext(live.runtime!, id, attempt, abort.signal)));
  Promise.race([running, aborted]).then(
    (value) => {
      clearTimeout(timer);
      const result = value === undefined ? null : value;
      try {
        assertEncodable(result, 64);
      } catch (error) {
        self.tell({ type: 'stepEnded', nonce, step: id, attempt, ok: false, error: errorToWire(error), retryable: false });
        return;
      }
      self.tell({ type: 'stepEnded', nonce, step: id, attempt, ok: true, value: result });
    },
    (error: unknown) => {
      clearTimeout(timer);
      const code = (error as { code?: unknown } | null)?.code;
      const retryable = !(typeof code === 'string' && kFinalCodes.has(code));
      self.tell({ type: 'stepEnded', nonce, step: id, attempt, ok: false, error: errorToWire(error), retryable });
    },
  );
}

/** Hands the step to the next runner in turn; an abort here (cancel, timeout, failure) is passed on to it. */
function runRemotely(state: WorkflowState, self: ActorRef<WorkflowMessage>, id: string, attempt: number, signal: AbortSignal): Promise<unknown> {
  const { live, run } = state;
  const runner = live.args.runners[live.spreadCount++ % live.args.runners.length];
  const task = `${live.nonce}/${id}/${attempt}`;
  const prefix = `${id}/`;
  const mine = <T>(record: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(record).filter(([key]) => key.startsWith(prefix)));
  const results: Record<string, unknown> = {};
  for (const [step, record] of Object.entries(run.steps)) if (record.status === 'done') results[step] = record.result;
  const message: RemoteStep = {
    type: 'run', task, nonce: live.nonce, run: self, runId: live.args.id, module: live.args.module, export: live.args.export,
    step: id, attempt, input: run.input, results, calls: mine(run.calls), waits: mine(run.waits), signals: run.signals,
    providers: live.args.providers, hub: live.args.hub,
  };
  signal.addEventListener('abort', () => void runner.tell({ type: 'abort', task }), { once: true });
  return runner.ask(message, { timeoutMs: 2 ** 31 - 1 });
}

async function end(state: WorkflowState, event: Extract<RunEvent, { t: 'end' }>, ctx: ActorContext<WorkflowMessage>, finished?: Finished): Promise<void> {
  if (state.run.status !== 'running' && state.run.status !== 'new') return;
  await ctx.persist(finished === undefined ? event : [finished.event, event]);
  if (finished !== undefined) emitFinished(state, finished);
  stopEverything(state, event.status === 'cancelled' ? new WorkflowCancelledError(state.live.args.id) : undefined);
  const { id } = state.live.args;
  state.live.args.hub.tell({ type: 'ended', id, status: event.status });
  if (event.status === 'finished') emit(state, { type: 'runFinished' });
  else if (event.status === 'failed') emit(state, { type: 'runFailed', error: event.error });
  else emit(state, { type: 'runCancelled' });
  armIdle(state, ctx.self);
}

/** Aborts every running step and every wait of this activation. */
function stopEverything(state: WorkflowState, reason: unknown): void {
  const { live } = state;
  for (const { abort } of live.running.values()) abort.abort(reason ?? new WorkflowCancelledError(live.args.id));
  live.running.clear();
  for (const timer of live.backingOff.values()) clearTimeout(timer);
  live.backingOff.clear();
  for (const [callId, provider] of live.inFlight) provider.tell({ type: 'cancel', callId });
  for (const waiter of live.waiters.values()) waiter.fail?.(new WorkflowCancelledError(live.args.id));
  live.waiters.clear();
}

/** A finished run's actor answers questions for keepMs after the last one, then ends (its journal stays). */
function armIdle(state: WorkflowState, self: ActorRef<WorkflowMessage>): void {
  const { live } = state;
  if (live.idleTimer !== undefined) clearTimeout(live.idleTimer);
  if (state.run.status === 'running' || state.run.status === 'new') return;
  const nonce = live.nonce;
  live.idleTimer = setTimeout(() => self.tell({ type: 'idle', nonce }), live.args.keepMs);
}

function wakeWaiters(state: WorkflowState, name: string): void {
  const arrived = state.run.signals[name] ?? [];
  for (const [key, waiter] of state.live.waiters) {
    if (waiter.name === name && waiter.index < arrived.length) {
      state.live.waiters.delete(key);
      waiter.resolve(arrived[waiter.index]);
    }
  }
}

function makeRuntime(state: WorkflowState, self: ActorRef<WorkflowMessage>): RunRuntime {
  const { live } = state;
  return {
    runId: live.args.id,
    record: state.run,
    providers: live.args.providers,
    hub: live.args.hub,
    inFlight: live.inFlight,
    journal: async (event) => {
      const written = await self.ask<JournalAnswer>({ type: 'journal', nonce: live.nonce, event }, { timeoutMs: 600_000 });
      if (written === false) throw new WorkflowCancelledError(live.args.id); // this activation is over
    },
    emit: (event) => emit(state, event),
    awaitSignal: (key, name, index, signal) =>
      new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = (): void => {
          live.waiters.delete(key);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        live.waiters.set(key, {
          name,
          index,
          resolve: (value) => {
            signal.removeEventListener('abort', onAbort);
            resolve(value);
          },
        });
      }),
  };
}

async function onStepEnded(state: WorkflowState, msg: Extract<WorkflowMessage, { type: 'stepEnded' }>, ctx: ActorContext<WorkflowMessage>): Promise<void> {
  const { run, live } = state;
  live.running.delete(msg.step);
  // A wait of the step left behind (it timed out, or the step went on without it) wakes nobody now.
  for (const [key, waiter] of live.waiters) if (key.startsWith(`${msg.step}/`)) (live.waiters.delete(key), waiter.fail?.(new WorkflowCancelledError(live.args.id)));
  if (run.status !== 'running') return;
  if (msg.ok) return schedule(state, ctx, { event: { t: 'done', step: msg.step, result: msg.value, attempt: msg.attempt }, attempt: msg.attempt });
  const step = live.definition!.steps.get(msg.step)!;
  const final = !msg.retryable || msg.attempt >= step.retry.attempts;
  await ctx.persist({ t: 'failed', step: msg.step, attempt: msg.attempt, error: msg.error, final } satisfies RunEvent);
  if (final) {
    emit(state, { type: 'stepFailed', step: msg.step, attempt: msg.attempt, error: msg.error });
    const error = { step: msg.step, code: msg.error.code, message: msg.error.message };
    return end(state, { t: 'end', status: 'failed', at: Date.now(), error }, ctx);
  }
  const delayMs = Math.min(step.retry.maxBackoffMs, step.retry.backoffMs * 2 ** (msg.attempt - 1));
  emit(state, { type: 'stepRetried', step: msg.step, attempt: msg.attempt, error: msg.error, delayMs });
  const nonce = live.nonce;
  const self = ctx.self;
  live.backingOff.set(msg.step, setTimeout(() => self.tell({ type: 'retryStep', nonce, step: msg.step }), delayMs));
}

export default defineActor<WorkflowState, WorkflowMessage, WorkflowArgs>({
  init: (args, ctx) => {
    ctx.self.tell({ type: 'resume' });
    const live: Activation = {
      nonce: randomInt(1, 2 ** 47),
      args,
      definition: undefined,
      running: new Map(),
      backingOff: new Map(),
      waiters: new Map(),
      inFlight: new Map(),
      idleTimer: undefined,
      runtime: undefined,
      spreadCount: 0,
    };
    return { run: emptyRun(), live };
  },
  persistence: {
    apply: (state: WorkflowState, event: RunEvent) => {
      applyRunEvent(state.run, event);
      return state;
    },
  },
  async receive(state, msg, ctx) {
    const { live } = state;
    switch (msg.type) {
      case 'resume': {
        live.runtime = makeRuntime(state, ctx.self);
        if (state.run.status === 'new') {
          if (!('input' in live.args)) throw new TroupeError('TROUPE_ERR_RUN_NOT_FOUND', `run ${live.args.id} has no journal and no input`);
          await ctx.persist({ t: 'start', input: live.args.input ?? null, at: Date.now() } satisfies RunEvent);
          emit(state, { type: 'runStarted' });
        }
        if (state.run.status !== 'running') return armIdle(state, ctx.self);
        try {
          live.definition = await loadWorkflow(live.args.module, live.args.export);
        } catch (error) {
          const wire = errorToWire(error);
          return end(state, { t: 'end', status: 'failed', at: Date.now(), error: { step: '(definition)', code: wire.code, message: wire.message } }, ctx);
        }
        return schedule(state, ctx);
      }
      case 'journal': {
        if (msg.nonce !== live.nonce) return ctx.reply(false); // a task of an earlier activation
        const reply = ctx.deferReply();
        try {
          assertEncodable(msg.event, 64);
        } catch (error) {
          return reply.fail(error);
        }
        if (state.run.status !== 'running') return reply.fail(new WorkflowCancelledError(live.args.id));
        await ctx.persist(msg.event);
        // A step on a runner learns which signal its wait takes from here (the run numbers the waits).
        reply.send(msg.event.t === 'wait' ? state.run.waits[msg.event.key] : true);
        return;
      }
      case 'awaitSignal': {
        const reply: ReplyHandle = ctx.deferReply();
        if (msg.nonce !== live.nonce || state.run.status !== 'running') return reply.fail(new WorkflowCancelledError(live.args.id));
        const arrived = state.run.signals[msg.name];
        if (arrived !== undefined && arrived.length > msg.index) return reply.send(arrived[msg.index]);
        live.waiters.set(msg.key, { name: msg.name, index: msg.index, resolve: (value) => reply.send(value), fail: (error) => reply.fail(error) });
        return;
      }
      case 'stepEnded':
        if (msg.nonce !== live.nonce) return;
        return onStepEnded(state, msg, ctx);
      case 'retryStep':
        if (msg.nonce !== live.nonce) return;
        live.backingOff.delete(msg.step);
        return schedule(state, ctx);
      case 'signal': {
        if (state.run.status !== 'running') return ctx.reply(false);
        const reply: ReplyHandle = ctx.deferReply();
        try {
          assertEncodable(msg.payload ?? null, 64);
        } catch (error) {
          return reply.fail(error);
        }
        await ctx.persist({ t: 'signal', name: String(msg.name), payload: msg.payload ?? null } satisfies RunEvent);
        emit(state, { type: 'signal', name: msg.name });
        wakeWaiters(state, msg.name);
        reply.send(true);
        return;
      }
      case 'status':
        if (state.run.status !== 'running') armIdle(state, ctx.self);
        return ctx.reply(summary(state));
      case 'cancel':
        await end(state, { t: 'end', status: 'cancelled', at: Date.now() }, ctx);
        return ctx.reply(summary(state));
      case 'idle':
        if (msg.nonce === live.nonce && state.run.status !== 'running') ctx.exit();
        return;
    }
  },
  onStop(state) {
    // The next activation resumes from the journal; this one's tasks must stop calling out.
    stopEverything(state, new WorkflowCancelledError(state.live.args.id));
    if (state.live.idleTimer !== undefined) clearTimeout(state.live.idleTimer);
  },
});
