/**
 * The agents module's errors: each a TroupeError with a stable code, since
 * they cross threads as data (only code, name and message survive a hop).
 */
import { TroupeError } from '../errors.js';

/** The API answered with an error status (429, 5xx, 4xx). */
export class LlmApiError extends TroupeError {
  readonly status: number;
  /** From `retry-after-ms` / `retry-after` (seconds or an HTTP date), when the API sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(provider: string, status: number, detail: string, retryAfterMs: number | undefined, options?: { cause?: unknown }) {
    super('TROUPE_ERR_LLM_API', `${provider}: the API answered ${status}: ${detail}`, options);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
  /** 408, 409, 429 and 5xx are worth another attempt; other 4xx are the request's fault. */
  get retryable(): boolean {
    return this.status === 408 || this.status === 409 || this.status === 429 || this.status >= 500;
  }
}

/** No answer within the request timeout. */
export class LlmTimeoutError extends TroupeError {
  constructor(provider: string, timeoutMs: number, options?: { cause?: unknown }) {
    super('TROUPE_ERR_LLM_TIMEOUT', `${provider}: no answer within ${timeoutMs} ms`, options);
  }
}

/** The server could not be reached, or the connection broke before an answer began. */
export class LlmConnectionError extends TroupeError {
  constructor(provider: string, detail: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_LLM_CONNECTION', `${provider}: connection failed: ${detail}`, options);
  }
}

/** The answer (a body or a stream) could not be understood: bad JSON, a stream that ends early, events out of order. */
export class LlmMalformedResponseError extends TroupeError {
  constructor(provider: string, detail: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_LLM_MALFORMED', `${provider}: malformed response: ${detail}`, options);
  }
}

/** The call was cancelled (`run.cancel()`, or the caller's signal). */
export class LlmAbortedError extends TroupeError {
  constructor(provider: string) {
    super('TROUPE_ERR_LLM_ABORTED', `${provider}: the call was cancelled`);
  }
}

/** More calls wait for the provider's budget than `maxQueued`. */
export class LlmOverloadedError extends TroupeError {
  constructor(provider: string, maxQueued: number) {
    super('TROUPE_ERR_LLM_OVERLOADED', `${provider}: ${maxQueued} calls already wait for the rate limit; this one is refused`);
  }
}

/** The provider's circuit is open: its server failed too often in a row. */
export class LlmUnavailableError extends TroupeError {
  constructor(provider: string, retryInMs: number) {
    super('TROUPE_ERR_LLM_UNAVAILABLE', `${provider}: circuit open after repeated server failures; calls fail fast for ${Math.ceil(retryInMs)} ms more`);
  }
}

/** `step.llm(name, ...)` names no provider given to createAgents. */
export class UnknownProviderError extends TroupeError {
  constructor(name: string, known: string[]) {
    super('TROUPE_ERR_UNKNOWN_PROVIDER', `no provider named "${name}" (known: ${known.length === 0 ? 'none' : known.join(', ')})`);
  }
}

/** A workflow's graph is wrong: cycles, unknown `needs`, duplicate or bad step ids. Names every offender. */
export class WorkflowDefinitionError extends TroupeError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('TROUPE_ERR_WORKFLOW_DEFINITION', `invalid workflow: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** A run ended because a step failed for good; `run.result()` rejects with it. */
export class WorkflowFailedError extends TroupeError {
  constructor(run: string, step: string, detail: string) {
    super('TROUPE_ERR_WORKFLOW_FAILED', `run ${run}: step "${step}" failed: ${detail}`);
  }
}

/** The run was cancelled (`run.cancel()`); its in-flight calls were aborted. */
export class WorkflowCancelledError extends TroupeError {
  constructor(run: string) {
    super('TROUPE_ERR_WORKFLOW_CANCELLED', `run ${run} was cancelled`);
  }
}

/** `agents.get(id)` / a run's methods: no run with that id was ever started on this store. */
export class RunNotFoundError extends TroupeError {
  constructor(run: string) {
    super('TROUPE_ERR_RUN_NOT_FOUND', `no run with id "${run}"`);
  }
}

/** `step.waitFor(signal, { timeoutMs })` saw no signal in time (the deadline survives restarts). */
export class WaitTimeoutError extends TroupeError {
  constructor(run: string, signal: string, timeoutMs: number) {
    super('TROUPE_ERR_WAIT_TIMEOUT', `run ${run}: no "${signal}" signal within ${timeoutMs} ms`);
  }
}

/** A step attempt ran past its `timeoutMs`. */
export class StepTimeoutError extends TroupeError {
  constructor(run: string, step: string, timeoutMs: number) {
    super('TROUPE_ERR_STEP_TIMEOUT', `run ${run}: step "${step}" ran past ${timeoutMs} ms`);
  }
}

/** A prompt template that does not parse, or names a variable it was not given. */
export class PromptTemplateError extends TroupeError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_PROMPT_TEMPLATE', `prompt template: ${detail}`, options);
  }
}

/** A conversation turn went past `maxToolRounds` rounds of tool calls without an answer in text. */
export class ToolRoundsExceededError extends TroupeError {
  constructor(conversation: string, maxToolRounds: number) {
    super('TROUPE_ERR_TOOL_ROUNDS_EXCEEDED', `conversation ${conversation}: the model still called tools after ${maxToolRounds} rounds (maxToolRounds); the turn is given up`);
  }
}

/** The model called a tool the conversation does not have (told to the model as the tool's result, not thrown). */
export class UnknownToolError extends TroupeError {
  constructor(name: string, known: string[]) {
    super('TROUPE_ERR_UNKNOWN_TOOL', `no tool named "${name}" (known: ${known.length === 0 ? 'none' : known.join(', ')})`);
  }
}

/** A tool call left unanswered by a turn that a crash or a stop cut short (told to the model when the next turn begins). */
export class TurnInterruptedError extends TroupeError {
  constructor(conversation: string, tool: string) {
    super('TROUPE_ERR_TURN_INTERRUPTED', `conversation ${conversation} stopped before tool "${tool}" answered; it may or may not have run`);
  }
}
