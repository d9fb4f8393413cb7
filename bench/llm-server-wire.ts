/**
 * What the loopback LLM server's two wire formats (OpenAI chat completions,
 * Anthropic messages) share: the call as the server understood it, the reply it
 * plans before writing a byte, and the token arithmetic both bill with. Each
 * dialect (llm-server-openai.ts, llm-server-anthropic.ts) turns a plan into its
 * own JSON body and SSE frames, so the two APIs answer the same prompt with the
 * same text and the same token counts.
 */

export type LlmApi = 'openai' | 'anthropic';

/** A request body as a dialect read it. */
export interface ParsedCall {
  model: string;
  messages: unknown[];
  tools: unknown[] | undefined;
  stream: boolean;
  /** OpenAI: `stream_options.include_usage`. Anthropic streams always carry usage. */
  includeUsage: boolean;
  maxTokens: number | undefined;
  /** The text of the last user turn that has text (tool results are not prompts). */
  lastUser: string;
  inputTokens: number;
}

/** What the server decided to say, before any dialect shapes it. */
export interface ReplyAnswer {
  text: string;
  toolCalls?: { name: string; arguments: unknown }[];
}

export interface PlannedToolCall {
  id: string;
  name: string;
  /** JSON text, as both APIs put arguments on the wire in streams. */
  argumentsJson: string;
  arguments: unknown;
}

/** A reply ready to be written in either API's shape. */
export interface ReplyPlan {
  id: string;
  model: string;
  /** The text in stream order: one word (with the whitespace after it) per piece; joined, the whole text. */
  pieces: string[];
  toolCalls: PlannedToolCall[];
  finish: 'stop' | 'length' | 'tool_calls';
  inputTokens: number;
  outputTokens: number;
  includeUsage: boolean;
}

/** A wire format: how one API's requests read and its answers and errors look. */
export interface Dialect {
  api: LlmApi;
  /** The request path the official SDK posts to. */
  path: string;
  /** A parsed call, or a string saying why the body is not a valid request (a 400). */
  parse(body: unknown): ParsedCall | string;
  /** The non-streaming response body. */
  body(plan: ReplyPlan): unknown;
  /** The whole SSE stream, one complete event (ending in a blank line) per entry. */
  frames(plan: ReplyPlan): string[];
  /** An SSE event whose data is not JSON. */
  malformedFrame(): string;
  /** The error body this API sends with an error status. */
  errorBody(status: number, message: string): unknown;
}

/** Roughly four characters a token, as the APIs' own rule of thumb; an empty text costs nothing. */
export function tokensOf(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Each piece is a word and the whitespace after it; leading whitespace rides with the first word. */
export function splitWords(text: string): string[] {
  const pieces = text.match(/^\s*\S+\s*|\S+\s*/g) ?? [];
  return pieces.length === 0 && text.length > 0 ? [text] : pieces;
}

/** Plans the reply: ids, the stream pieces, the token bill, and where `max_tokens` cuts it short. */
export function planReply(call: ParsedCall, answer: ReplyAnswer, requestNo: number, idPrefix: { message: string; toolCall: string }): ReplyPlan {
  let pieces = splitWords(answer.text);
  let toolCalls: PlannedToolCall[] = (answer.toolCalls ?? []).map((call, i) => {
    const argumentsJson = JSON.stringify(call.arguments ?? {});
    return { id: `${idPrefix.toolCall}${requestNo}_${i}`, name: call.name, argumentsJson, arguments: call.arguments ?? {} };
  });
  // A tool call costs its arguments' tokens (at least one), like text.
  const toolTokens = toolCalls.reduce((sum, call) => sum + Math.max(1, tokensOf(call.argumentsJson)), 0);
  let finish: ReplyPlan['finish'] = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  let outputTokens = pieces.length + toolTokens;
  if (call.maxTokens !== undefined && outputTokens > call.maxTokens) {
    // As the real APIs do: the answer stops mid-way, and a half-written tool call is not offered.
    pieces = pieces.slice(0, call.maxTokens);
    toolCalls = [];
    finish = 'length';
    outputTokens = pieces.length;
  }
  return {
    id: `${idPrefix.message}${requestNo}`,
    model: call.model,
    pieces,
    toolCalls,
    finish,
    inputTokens: call.inputTokens,
    outputTokens,
    includeUsage: call.includeUsage,
  };
}

/** Splits a JSON text in two, so streamed tool arguments arrive in more than one delta and must be assembled. */
export function halves(text: string): string[] {
  if (text.length < 2) return [text];
  const middle = Math.floor(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One SSE event; `event` is the Anthropic-style name line (OpenAI sends data lines only). */
export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${payload}\n\n`;
}
