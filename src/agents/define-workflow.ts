/**
 * `defineWorkflow({ steps })`: a DAG of steps, checked when it is defined
 * (cycles, unknown `needs`, duplicate and bad ids: one typed error naming
 * every offender) and exported as a module's default, like an actor.
 */
import type { ActorRef } from '../actor/ref.js';
import type { LlmRequest, LlmResult } from './llm-types.js';
import { WorkflowDefinitionError } from './errors.js';

export const kWorkflowDefinition = Symbol.for('troupe.workflow-definition');

export interface StepRetry {
  /** Attempts of a step, the first included. @default 3 */
  attempts?: number;
  /** Before the second attempt; doubled per attempt. @default 1000 */
  backoffMs?: number;
  /** @default 30000 */
  maxBackoffMs?: number;
}

/** What a step's `run` is given besides the run's input. */
export interface StepContext {
  /** The run's id. */
  readonly run: string;
  /** This step's id. */
  readonly id: string;
  /** 1 for the first attempt; a resumed attempt keeps its number. */
  readonly attempt: number;
  /** Every finished step's result, by step id (this step's `needs` are all there). */
  readonly results: Record<string, any>;
  /** Aborted when the run is cancelled, fails, or this attempt times out. */
  readonly signal: AbortSignal;
  /**
   * A chat call through the named provider (its limits, retries, ledger).
   * Journaled: once it has answered, a resumed run gets the same answer
   * without calling again. A retried step (a new attempt) calls again.
   */
  llm(provider: string, request: LlmRequest, options?: { timeoutMs?: number }): Promise<LlmResult>;
  /**
   * Runs `fn` once and journals its result: a resumed run, or a later attempt
   * of this step, gets the journaled result without running it again. A crash
   * while `fn` runs (before its result is journaled) runs it again: `fn` gets
   * a key, stable across those runs, to make its side effect idempotent.
   */
  tool<T>(name: string, fn: (idempotencyKey: string) => T | Promise<T>): Promise<T>;
  /**
   * Asks an actor (a conversation agent, say: `{ type: 'say', text }`) and
   * journals its reply like a tool's: a resumed run, or a later attempt of
   * this step, gets the journaled reply without asking again. A crash before
   * the reply is journaled asks again. The ref comes in the run's input or a
   * step's result; one read back from the journal (after any re-activation
   * of the run) is plain data, no live ref: ask only through refs given since.
   * @default timeoutMs 300000
   */
  ask<T = any>(ref: ActorRef, message: unknown, options?: { timeoutMs?: number }): Promise<T>;
  /**
   * Waits for `run.signal(name, payload)` and resolves to its payload.
   * Survives restarts (the wait and its deadline are journaled); a signal
   * sent before the wait began is kept for it. The n-th wait for a name in
   * a run takes the n-th signal of that name.
   */
  waitFor<T = unknown>(name: string, options?: { timeoutMs?: number }): Promise<T>;
  /** Renders a Liquid template (liquidjs) with `vars`; an unknown variable is an error, not an empty string. */
  prompt(template: string, vars?: Record<string, unknown>): Promise<string>;
  /** An event of your own on `run.events` (`{ type: 'custom', step, name, data }`). */
  emit(name: string, data?: unknown): void;
}

export interface StepDefinition<TInput = any> {
  /** Steps that must finish first; their results are in `step.results`. */
  needs?: string[];
  run: (input: TInput, step: StepContext) => unknown;
  retry?: StepRetry;
  /** Per attempt. @default none */
  timeoutMs?: number;
  /**
   * Runs this step on the agents' step runners, one per worker, taken in
   * turn, instead of on the run's own worker: the steps of a fan-out then
   * use every core. For steps that compute; a step that mostly waits on llm
   * calls gains nothing from it. @default the workflow's `spread` (false)
   */
  spread?: boolean;
}

export interface WorkflowOptions<TInput = any> {
  /** By id, or as a list of steps with an `id` each. */
  steps: Record<string, StepDefinition<TInput>> | (StepDefinition<TInput> & { id: string })[];
  /** Steps of one run that run at once. @default 8 */
  concurrency?: number;
  /** The steps' default retry policy. */
  retry?: StepRetry;
  /** The steps' default `spread`. @default false */
  spread?: boolean;
}

export interface ResolvedStep {
  id: string;
  needs: string[];
  run: StepDefinition['run'];
  retry: Required<StepRetry>;
  timeoutMs: number | undefined;
  spread: boolean;
}

export interface WorkflowDefinition {
  readonly [kWorkflowDefinition]: true;
  readonly steps: ReadonlyMap<string, ResolvedStep>;
  /** Step ids in a topological order (the order they are started in when several are ready). */
  readonly order: readonly string[];
  readonly concurrency: number;
}

const kStepKeys = new Set(['id', 'needs', 'run', 'retry', 'timeoutMs', 'spread']);
const kRetryDefaults: Required<StepRetry> = { attempts: 3, backoffMs: 1000, maxBackoffMs: 30_000 };

export function defineWorkflow<TInput = any>(options: WorkflowOptions<TInput>): WorkflowDefinition {
  if (options === null || typeof options !== 'object') throw new WorkflowDefinitionError(['defineWorkflow() takes an object with steps']);
  const problems: string[] = [];
  const entries: [string, StepDefinition & { id?: string }][] = [];
  if (Array.isArray(options.steps)) {
    const seen = new Set<string>();
    for (const [index, step] of options.steps.entries()) {
      const id = (step as { id?: unknown } | null)?.id;
      if (typeof id !== 'string') {
        problems.push(`step #${index} has no string id`);
        continue;
      }
      if (seen.has(id)) problems.push(`duplicate step id "${id}"`);
      seen.add(id);
      entries.push([id, step]);
    }
  } else if (options.steps !== null && typeof options.steps === 'object') {
    entries.push(...Object.entries(options.steps));
  } else {
    problems.push('steps must be an object of steps by id, or an array of steps with ids');
  }
  if (entries.length === 0 && problems.length === 0) problems.push('a workflow needs at least one step');
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) problems.push(`concurrency must be a positive integer, received ${String(options.concurrency)}`);
  const defaults = { ...kRetryDefaults, ...retryOf(options.retry, 'workflow retry', problems) };
  if (options.spread !== undefined && typeof options.spread !== 'boolean') problems.push(`spread must be a boolean, received ${String(options.spread)}`);

  const steps = new Map<string, ResolvedStep>();
  for (const [id, step] of entries) {
    if (id.length === 0 || id.length > 200 || id.includes('/')) problems.push(`step id "${id}" must be 1 to 200 characters without "/"`);
    if (step === null || typeof step !== 'object') {
      problems.push(`step "${id}" must be an object with run`);
      continue;
    }
    for (const key of Object.keys(step)) if (!kStepKeys.has(key)) problems.push(`step "${id}": unknown key "${key}"`);
    if (typeof step.run !== 'function') problems.push(`step "${id}": run must be a function`);
    const needs = step.needs ?? [];
    if (!Array.isArray(needs) || needs.some((n) => typeof n !== 'string')) problems.push(`step "${id}": needs must be an array of step ids`);
    if (step.timeoutMs !== undefined && !(typeof step.timeoutMs === 'number' && step.timeoutMs > 0)) problems.push(`step "${id}": timeoutMs must be a positive number`);
    const retry = { ...defaults, ...retryOf(step.retry, `step "${id}" retry`, problems) };
    if (step.spread !== undefined && typeof step.spread !== 'boolean') problems.push(`step "${id}": spread must be a boolean`);
    const spread = step.spread ?? options.spread ?? false;
    steps.set(id, { id, needs: Array.isArray(needs) ? [...needs] : [], run: step.run, retry, timeoutMs: step.timeoutMs, spread: spread === true });
  }
  for (const step of steps.values()) {
    for (const need of step.needs) {
      if (need === step.id) problems.push(`step "${step.id}" needs itself`);
      else if (!steps.has(need)) problems.push(`step "${step.id}" needs unknown step "${need}"`);
    }
  }
  const order = topologicalOrder(steps, problems);
  if (problems.length > 0) throw new WorkflowDefinitionError(problems);
  return Object.freeze({ [kWorkflowDefinition]: true as const, steps, order, concurrency });
}

export function isWorkflowDefinition(value: unknown): value is WorkflowDefinition {
  return typeof value === 'object' && value !== null && (value as { [kWorkflowDefinition]?: unknown })[kWorkflowDefinition] === true;
}

function retryOf(retry: StepRetry | undefined, where: string, problems: string[]): StepRetry {
  if (retry === undefined) return {};
  if (retry === null || typeof retry !== 'object') {
    problems.push(`${where} must be an object { attempts, backoffMs, maxBackoffMs }`);
    return {};
  }
  const out: StepRetry = {};
  for (const [key, value] of Object.entries(retry)) {
    if (!(key in kRetryDefaults)) problems.push(`${where}: unknown key "${key}"`);
    else if (typeof value !== 'number' || !(value >= (key === 'attempts' ? 1 : 0)) || (key === 'attempts' && !Number.isInteger(value))) problems.push(`${where}.${key} must be a ${key === 'attempts' ? 'positive integer' : 'number ≥ 0'}`);
    else out[key as keyof StepRetry] = value;
  }
  return out;
}

/** Kahn's order, declaration order among the ready; every cycle left is named, as a path. */
function topologicalOrder(steps: Map<string, ResolvedStep>, problems: string[]): string[] {
  // Unknown and self needs are reported already; the order and the cycles are over the rest.
  const needsOf = (step: ResolvedStep): string[] => step.needs.filter((n) => n !== step.id && steps.has(n));
  const remaining = new Map<string, number>();
  for (const step of steps.values()) remaining.set(step.id, needsOf(step).length);
  const order: string[] = [];
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const step of steps.values()) {
      if (remaining.get(step.id) !== 0) continue;
      remaining.set(step.id, -1);
      order.push(step.id);
      progressed = true;
      for (const other of steps.values()) if (needsOf(other).includes(step.id)) remaining.set(other.id, remaining.get(other.id)! - 1);
    }
  }
  const stuck = new Set([...remaining].filter(([, n]) => n > 0).map(([id]) => id));
  const named = new Set<string>();
  for (const start of stuck) {
    if (named.has(start)) continue;
    // Walk needs among the stuck until a step repeats: that repeat closes a cycle.
    const path: string[] = [];
    let at: string | undefined = start;
    while (at !== undefined && !path.includes(at)) {
      path.push(at);
      at = needsOf(steps.get(at)!).find((n) => stuck.has(n));
    }
    if (at === undefined) continue;
    const cycle = path.slice(path.indexOf(at));
    if (cycle.some((id) => named.has(id))) continue;
    for (const id of cycle) named.add(id);
    problems.push(`cycle: ${[...cycle, at].join(' → ')}`);
  }
  return order;
}
