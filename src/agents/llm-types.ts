/**
 * The provider-neutral shape of a chat call: what `step.llm(provider, request)`
 * takes and resolves to, whichever API (OpenAI chat completions, Anthropic
 * messages) serves it. Plain data throughout: requests and results cross
 * threads as messages and are journaled by workflows.
 */

export interface LlmToolCall {
  /** The API's id for the call (answer it with a `tool` message carrying this id). */
  id: string;
  name: string;
  /** The arguments, parsed from the model's JSON (the raw string when it is not valid JSON). */
  arguments: unknown;
}

export interface LlmMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** role 'tool': the call this message answers. */
  toolCallId?: string;
  /** role 'assistant': the tool calls the model made in that turn. */
  toolCalls?: LlmToolCall[];
}

export interface LlmTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface LlmRequest {
  messages: LlmMessage[];
  /** A system prompt (Anthropic's `system`; for OpenAI a leading system message). */
  system?: string;
  tools?: LlmTool[];
  /** @default 1024 */
  maxTokens?: number;
  temperature?: number;
  /** Stream the answer: tokens are forwarded as events while they arrive. @default false */
  stream?: boolean;
  /** Overrides the provider's model for this call. */
  model?: string;
}

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface LlmResult {
  text: string;
  toolCalls: LlmToolCall[];
  usage: LlmUsage;
  /** The model that answered, as the API reported it. */
  model: string;
  /** Why the model stopped ('stop', 'length', 'tool_calls', 'end_turn', ...), as the API said it. */
  finishReason: string | undefined;
  /** The API's response body (non-streaming), or the stream's assembled message (streaming): plain JSON. */
  raw: unknown;
}

export interface CompleteOptions {
  /** Aborts the HTTP request (cancellation). */
  signal: AbortSignal;
  /** Per request. */
  timeoutMs: number;
  /** Streaming: each text delta as it arrives. */
  onToken?: (text: string) => void;
}

/** One API behind one SDK client: a single attempt, no retries (the provider actor owns retries). */
export interface LlmAdapter {
  complete(request: LlmRequest, options: CompleteOptions): Promise<LlmResult>;
}
