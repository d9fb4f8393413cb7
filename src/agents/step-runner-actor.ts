/**
 * A step runner (`troupe.steps/<worker>`, one per worker): runs the steps
 * defined with `spread: true` of any run, so a fan-out uses every core. The
 * run's actor asks it `{ type: 'run' }` with what the step may read (the
 * finished steps' results, this step's journaled calls and waits, the
 * signals so far) and gets the step's result, or its error, as the reply.
 * Everything the step journals goes to the run's actor first (`journal`
 * asks carrying the activation's nonce, as a step on the run's own worker
 * does), and a wait's signal comes from it (`awaitSignal`), so the run's
 * journal stays the one truth and a runner holds nothing worth keeping: a
 * runner that dies fails its steps' asks, and the run retries them.
 */
import { defineActor } from '../actor/define-actor.js';
import type { ActorRef } from '../actor/ref.js';
import { assertEncodable } from '../codec/validate.js';
import { WorkflowCancelledError } from './errors.js';
import { loadWorkflow } from './load-workflow.js';
import { emptyRun, type RunEvent, type RunRecord } from './run-journal.js';
import { stepContext, type RunRuntime } from './step-context.js';

export interface RemoteStep {
  type: 'run';
  /** Unique per step attempt: what `abort` names. */
  task: string;
  nonce: number;
  run: ActorRef;
  runId: string;
  module: string;
  export: string;
  step: string;
  attempt: number;
  input: unknown;
  results: Record<string, unknown>;
  /** This step's journaled llm, tool and ask results, by key. */
  calls: Record<string, unknown>;
  /** This step's journaled waits, by key. */
  waits: RunRecord['waits'];
  signals: RunRecord['signals'];
  providers: Record<string, ActorRef>;
  hub: ActorRef;
}

export type StepRunnerMessage = RemoteStep | { type: 'abort'; task: string };

/** What the run's actor answers a `journal` ask with: false once that activation is over; a wait's binding for a wait. */
export type JournalAnswer = boolean | RunRecord['waits'][string];

interface RunnerState {
  tasks: Map<string, AbortController>;
}

const kForever = 2 ** 31 - 1;

function runtimeFor(msg: RemoteStep): RunRuntime {
  const record = emptyRun();
  record.status = 'running';
  for (const [id, result] of Object.entries(msg.results)) record.steps[id] = { status: 'done', attempt: 0, result };
  Object.assign(record.calls, msg.calls);
  Object.assign(record.waits, msg.waits);
  Object.assign(record.signals, msg.signals);
  return {
    runId: msg.runId,
    record,
    providers: msg.providers,
    hub: msg.hub,
    inFlight: new Map(),
    journal: async (event: RunEvent) => {
      const answer = await msg.run.ask<JournalAnswer>({ type: 'journal', nonce: msg.nonce, event }, { timeoutMs: 600_000 });
      if (answer === false) throw new WorkflowCancelledError(msg.runId);
      // Only what this step reads back: its calls and its waits' bindings (the run numbered the wait).
      if (event.t === 'call') record.calls[event.key] = event.value;
      if (event.t === 'wait' && typeof answer === 'object') record.waits[event.key] = answer;
    },
    emit: (event) => msg.hub.tell({ type: 'event', run: msg.runId, event: { ...event, at: Date.now() } }),
    awaitSignal: (key, name, index, signal) =>
      new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        msg.run.ask({ type: 'awaitSignal', nonce: msg.nonce, key, name, index }, { timeoutMs: kForever }).then(resolve, reject);
      }),
  };
}

async function runStep(state: RunnerState, msg: RemoteStep): Promise<unknown> {
  const abort = new AbortController();
  state.tasks.set(msg.task, abort);
  try {
    const definition = await loadWorkflow(msg.module, msg.export);
    const step = definition.steps.get(msg.step);
    if (step === undefined) throw new WorkflowCancelledError(msg.runId); // the module changed under the run
    const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true }));
    aborted.catch(() => {});
    const context = stepContext(runtimeFor(msg), msg.step, msg.attempt, abort.signal);
    const value = await Promise.race([Promise.resolve().then(() => step.run(msg.input, context)), aborted]);
    const result = value === undefined ? null : value;
    assertEncodable(result, 64);
    return result;
  } finally {
    state.tasks.delete(msg.task);
  }
}

export default defineActor<RunnerState, StepRunnerMessage>({
  init: () => ({ tasks: new Map() }),
  receive(state, msg, ctx) {
    if (msg.type === 'abort') {
      // The run has already ended the step on its side; this stops its calls (an llm call is cancelled at its provider).
      state.tasks.get(msg.task)?.abort(new WorkflowCancelledError('(aborted step)'));
      return;
    }
    // The step runs outside the handler: a runner takes many steps at once.
    const reply = ctx.deferReply();
    runStep(state, msg).then(
      (value) => reply.send(value),
      (error: unknown) => reply.fail(error),
    );
  },
  onStop(state) {
    for (const abort of state.tasks.values()) abort.abort(new Error('the step runner stopped'));
  },
});
