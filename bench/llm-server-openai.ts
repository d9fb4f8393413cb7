/**
 * The loopback server's OpenAI chat completions dialect: `POST /v1/chat/completions`,
 * a JSON body or an SSE stream of `data: {chunk}` lines closed by `data: [DONE]`,
 * with a usage chunk (empty `choices`) when `stream_options.include_usage` asks.
 * Only as much of the API as the official SDK and the adapters use.
 */
import { halves, isRecord, sseFrame, tokensOf, type Dialect, type ParsedCall, type ReplyPlan } from './llm-server-wire.js';

/** A message's text: a string, or the text parts of a content array. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isRecord(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

/** What a message costs: its text, and the arguments of the tool calls it carries. */
function messageText(message: Record<string, unknown>): string {
  let text = contentText(message.content);
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (isRecord(call) && isRecord(call.function) && typeof call.function.arguments === 'string') text += call.function.arguments;
    }
  }
  return text;
}

function parse(body: unknown): ParsedCall | string {
  if (!isRecord(body)) return 'the body must be a JSON object';
  if (typeof body.model !== 'string' || body.model === '') return "'model' is required";
  if (!Array.isArray(body.messages) || body.messages.length === 0) return "'messages' must be a non-empty array";
  let inputTokens = 0;
  let lastUser = '';
  for (const [i, message] of body.messages.entries()) {
    if (!isRecord(message) || typeof message.role !== 'string') return `messages[${i}] needs a role`;
    if (message.role === 'tool' && typeof message.tool_call_id !== 'string') return `messages[${i}]: a tool message needs 'tool_call_id'`;
    inputTokens += tokensOf(messageText(message));
    if (message.role === 'user') lastUser = contentText(message.content);
  }
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
  return {
    model: body.model,
    messages: body.messages,
    tools: Array.isArray(body.tools) ? body.tools : undefined,
    stream: body.stream === true,
    includeUsage: streamOptions.include_usage === true,
    maxTokens: typeof maxTokens === 'number' ? maxTokens : undefined,
    lastUser,
    inputTokens,
  };
}

function usage(plan: ReplyPlan) {
  return { prompt_tokens: plan.inputTokens, completion_tokens: plan.outputTokens, total_tokens: plan.inputTokens + plan.outputTokens };
}

const created = () => Math.floor(Date.now() / 1000);

function body(plan: ReplyPlan): unknown {
  const text = plan.pieces.join('');
  const message: Record<string, unknown> = { role: 'assistant', content: text === '' && plan.toolCalls.length > 0 ? null : text, refusal: null };
  if (plan.toolCalls.length > 0) {
    message.tool_calls = plan.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.argumentsJson } }));
  }
  return {
    id: plan.id,
    object: 'chat.completion',
    created: created(),
    model: plan.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finish }],
    usage: usage(plan),
  };
}

function frames(plan: ReplyPlan): string[] {
  const at = created();
  // With include_usage, every chunk says `usage: null` until the last one carries it, as the API does.
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    sseFrame({
      id: plan.id,
      object: 'chat.completion.chunk',
      created: at,
      model: plan.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(plan.includeUsage ? { usage: null } : {}),
    });
  const out = [chunk({ role: 'assistant', content: '' })];
  for (const piece of plan.pieces) out.push(chunk({ content: piece }));
  plan.toolCalls.forEach((call, index) => {
    out.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const part of halves(call.argumentsJson)) out.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
  });
  out.push(chunk({}, plan.finish));
  if (plan.includeUsage) {
    out.push(sseFrame({ id: plan.id, object: 'chat.completion.chunk', created: at, model: plan.model, choices: [], usage: usage(plan) }));
  }
  out.push(sseFrame('[DONE]'));
  return out;
}

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
};

const errorCodes: Record<number, string> = { 401: 'invalid_api_key', 429: 'rate_limit_exceeded' };

export const openaiDialect: Dialect = {
  api: 'openai',
  path: '/v1/chat/completions',
  parse,
  body,
  frames,
  malformedFrame: () => 'data: {"id": not json\n\n',
  errorBody: (status, message) => ({
    error: { message, type: errorTypes[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), param: null, code: errorCodes[status] ?? null },
  }),
};
