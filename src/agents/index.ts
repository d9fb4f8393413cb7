/**
 * troupe/agents: LLM providers as actors (one budget for the whole system),
 * durable workflows of steps (journaled llm calls, tools and human waits
 * that survive a crash), conversation agents (durable message histories
 * whose tools are other actors), prompt templates.
 */
export { createAgents, Agents, Run } from './agents.js';
export type { AgentsOptions, StartOptions } from './agents.js';
export { openai, anthropic } from './provider-spec.js';
export type { ProviderOptions, ProviderSpec, RetryOptions, Prices } from './provider-spec.js';
export type { RateLimits } from './rate-limiter.js';
export type { BreakerOptions } from './circuit-breaker.js';
export { defineWorkflow, isWorkflowDefinition } from './define-workflow.js';
export type { WorkflowDefinition, WorkflowOptions, StepDefinition, StepContext, StepRetry } from './define-workflow.js';
export { defineConversation, isConversationDefinition } from './conversation.js';
export type { ConversationDefinition, ConversationOptions, ConversationToolSpec, ConversationSpawnOptions } from './conversation.js';
export type { ConversationMessage, ConversationToolCall, SayReply, ToolRequest } from './conversation-actor.js';
export type { LlmRequest, LlmResult, LlmMessage, LlmTool, LlmToolCall, LlmUsage } from './llm-types.js';
export type { ProviderLedger } from './provider-actor.js';
export type { RunSummary } from './workflow-actor.js';
export type { RunStatus, UsageTotals } from './run-journal.js';
export { RunEvents } from './run-events.js';
export type { RunEventBase } from './run-events.js';
export { renderPrompt } from './prompt.js';
export {
  LlmApiError,
  LlmTimeoutError,
  LlmConnectionError,
  LlmMalformedResponseError,
  LlmAbortedError,
  LlmOverloadedError,
  LlmUnavailableError,
  UnknownProviderError,
  WorkflowDefinitionError,
  WorkflowFailedError,
  WorkflowCancelledError,
  RunNotFoundError,
  WaitTimeoutError,
  StepTimeoutError,
  PromptTemplateError,
  ToolRoundsExceededError,
  UnknownToolError,
  TurnInterruptedError,
} from './errors.js';
