/**
 * What a run's journal holds, and how its events rebuild the run (the
 * workflow actor's `persistence.apply`): pure, so a recovery replays it.
 * Everything that must survive a crash is here: the input, each step's
 * attempts and result, every llm and tool result (by call key), each signal,
 * each wait's binding to the signal it takes, and the token ledger.
 */
import type { WireError } from '../errors.js';

export type RunStatus = 'new' | 'running' | 'finished' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'done' | 'failed';

export interface StepRecord {
  status: StepStatus;
  /** The latest attempt journaled (0 before the first). */
  attempt: number;
  result?: unknown;
  error?: WireError;
}

export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
}

export interface RunRecord {
  status: RunStatus;
  input: unknown;
  startedAt: number;
  endedAt: number | undefined;
  steps: Record<string, StepRecord>;
  /** Journaled llm and tool results by call key. */
  calls: Record<string, unknown>;
  /** Signals received, per name, in order. */
  signals: Record<string, unknown[]>;
  /** Each wait (by key) and the index of the signal of its name it takes. */
  waits: Record<string, { name: string; index: number; deadline: number | undefined }>;
  waitCounts: Record<string, number>;
  usage: UsageTotals & { byStep: Record<string, UsageTotals>; byProvider: Record<string, UsageTotals> };
  error: { step: string; code: string; message: string } | undefined;
}

export interface CallUsage {
  provider: string;
  inputTokens: number;
  outputTokens: number;
  cost: number;
}

export type RunEvent =
  | { t: 'start'; input: unknown; at: number }
  | { t: 'attempt'; step: string; attempt: number }
  | { t: 'call'; key: string; step: string; value: unknown; usage?: CallUsage }
  | { t: 'wait'; key: string; name: string; deadline: number | undefined }
  | { t: 'signal'; name: string; payload: unknown }
  /** `attempt` since steps start without an event of their own (absent in older journals). */
  | { t: 'done'; step: string; result: unknown; attempt?: number }
  | { t: 'failed'; step: string; attempt: number; error: WireError; final: boolean }
  | { t: 'end'; status: 'finished' | 'failed' | 'cancelled'; at: number; error?: { step: string; code: string; message: string } };

export function emptyRun(): RunRecord {
  return {
    status: 'new',
    input: undefined,
    startedAt: 0,
    endedAt: undefined,
    steps: {},
    calls: {},
    signals: {},
    waits: {},
    waitCounts: {},
    usage: { calls: 0, inputTokens: 0, outputTokens: 0, cost: 0, byStep: {}, byProvider: {} },
    error: undefined,
  };
}

function add(totals: UsageTotals, usage: CallUsage): void {
  totals.calls += 1;
  totals.inputTokens += usage.inputTokens;
  totals.outputTokens += usage.outputTokens;
  totals.cost += usage.cost;
}

const zero = (): UsageTotals => ({ calls: 0, inputTokens: 0, outputTokens: 0, cost: 0 });

function stepOf(run: RunRecord, id: string): StepRecord {
  return (run.steps[id] ??= { status: 'pending', attempt: 0 });
}

export function applyRunEvent(run: RunRecord, event: RunEvent): void {
  switch (event.t) {
    case 'start':
      run.status = 'running';
      run.input = event.input;
      run.startedAt = event.at;
      return;
    case 'attempt': {
      const step = stepOf(run, event.step);
      step.status = 'running';
      step.attempt = event.attempt;
      return;
    }
    case 'call':
      run.calls[event.key] = event.value;
      if (event.usage !== undefined) {
        add(run.usage, event.usage);
        add((run.usage.byStep[event.step] ??= zero()), event.usage);
        add((run.usage.byProvider[event.usage.provider] ??= zero()), event.usage);
      }
      return;
    case 'wait':
      if (run.waits[event.key] === undefined) {
        const index = run.waitCounts[event.name] ?? 0;
        run.waitCounts[event.name] = index + 1;
        run.waits[event.key] = { name: event.name, index, deadline: event.deadline };
      }
      return;
    case 'signal':
      (run.signals[event.name] ??= []).push(event.payload);
      return;
    case 'done': {
      const step = stepOf(run, event.step);
      step.status = 'done';
      step.result = event.result;
      if (event.attempt !== undefined) step.attempt = Math.max(step.attempt, event.attempt);
      delete step.error;
      return;
    }
    case 'failed': {
      const step = stepOf(run, event.step);
      step.status = event.final ? 'failed' : 'pending';
      step.error = event.error;
      // The next attempt is one past this one: no event marks an attempt's start.
      step.attempt = Math.max(step.attempt, event.attempt);
      return;
    }
    case 'end':
      run.status = event.status;
      run.endedAt = event.at;
      run.error = event.error;
      return;
  }
}
