/**
 * The loopback server's Anthropic messages dialect: `POST /v1/messages`, a JSON
 * body or an SSE stream of named events (message_start, content_block_start /
 * delta / stop per block, message_delta with the output usage and stop reason,
 * message_stop). The SDK skips data lines without an `event:` name, so every
 * frame carries one. Only as much of the API as the official SDK and the adapters use.
 */
import { halves, isRecord, sseFrame, tokensOf, type Dialect, type ParsedCall, type ReplyPlan } from './llm-server-wire.js';

/** The prompt text of a content: a string, or its text blocks (tool results are answers, not prompts). */
function promptText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block) => (isRecord(block) && block.type === 'text' && typeof block.text === 'string' ? block.text : '')).join('');
}

/** What a content costs: text blocks, tool inputs and tool results alike. */
function costText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block) => {
      if (!isRecord(block)) return '';
      if (block.type === 'text' && typeof block.text === 'string') return block.text;
      if (block.type === 'tool_use') return JSON.stringify(block.input ?? {});
      if (block.type === 'tool_result') return costText(block.content);
      return '';
    })
    .join('');
}

function parse(body: unknown): ParsedCall | string {
  if (!isRecord(body)) return 'the body must be a JSON object';
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  let inputTokens = typeof body.system === 'string' ? tokensOf(body.system) : tokensOf(costText(body.system));
  let lastUser = '';
  let previousRole: unknown;
  for (const [i, message] of body.messages.entries()) {
    if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) return `messages.${i}.role: must be 'user' or 'assistant'`;
    // The real API rejects two turns of one role in a row; the adapter must merge them.
    if (message.role === previousRole) return `messages.${i}: roles must alternate between 'user' and 'assistant'`;
    previousRole = message.role;
    inputTokens += tokensOf(costText(message.content));
    const text = message.role === 'user' ? promptText(message.content) : '';
    if (text !== '') lastUser = text;
  }
  return {
    model: body.model,
    messages: body.messages,
    tools: Array.isArray(body.tools) ? body.tools : undefined,
    stream: body.stream === true,
    includeUsage: true,
    maxTokens: body.max_tokens,
    lastUser,
    inputTokens,
  };
}

const stopReasons: Record<ReplyPlan['finish'], string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' };

function content(plan: ReplyPlan): Record<string, unknown>[] {
  const text = plan.pieces.join('');
  const blocks: Record<string, unknown>[] = text === '' && plan.toolCalls.length > 0 ? [] : [{ type: 'text', text, citations: null }];
  for (const call of plan.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments });
  return blocks;
}

function body(plan: ReplyPlan): unknown {
  return {
    id: plan.id,
    type: 'message',
    role: 'assistant',
    model: plan.model,
    content: content(plan),
    stop_reason: stopReasons[plan.finish],
    stop_sequence: null,
    usage: { input_tokens: plan.inputTokens, output_tokens: plan.outputTokens },
  };
}

function frames(plan: ReplyPlan): string[] {
  const event = (type: string, data: Record<string, unknown>) => sseFrame({ type, ...data }, type);
  const out = [
    event('message_start', {
      message: {
        id: plan.id,
        type: 'message',
        role: 'assistant',
        model: plan.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: plan.inputTokens, output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (plan.pieces.length > 0 || plan.toolCalls.length === 0) {
    out.push(event('content_block_start', { index, content_block: { type: 'text', text: '', citations: null } }));
    for (const piece of plan.pieces) out.push(event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }));
    out.push(event('content_block_stop', { index }));
    index++;
  }
  for (const call of plan.toolCalls) {
    out.push(event('content_block_start', { index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }));
    for (const part of halves(call.argumentsJson)) out.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: part } }));
    out.push(event('content_block_stop', { index }));
    index++;
  }
  out.push(event('message_delta', { delta: { stop_reason: stopReasons[plan.finish], stop_sequence: null }, usage: { output_tokens: plan.outputTokens } }));
  out.push(event('message_stop', {}));
  return out;
}

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

export const anthropicDialect: Dialect = {
  api: 'anthropic',
  path: '/v1/messages',
  parse,
  body,
  frames,
  malformedFrame: () => 'event: content_block_delta\ndata: {"type": not json\n\n',
  errorBody: (status, message) => ({
    type: 'error',
    error: { type: errorTypes[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message },
  }),
};
