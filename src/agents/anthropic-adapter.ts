/**
 * The Anthropic messages API through the official SDK (`@anthropic-ai/sdk`),
 * one attempt per call (the SDK's retries are off; the provider actor owns
 * them). The API wants turns that alternate user / assistant, a separate
 * `system`, and tool results as `tool_result` blocks in a user turn, so the
 * neutral messages are folded into that shape. A stream is whole only at
 * its message_stop; anything shorter is malformed.
 */
import Anthropic from '@anthropic-ai/sdk';
import { InvalidArgumentError } from '../errors.js';
import { LlmMalformedResponseError } from './errors.js';
import type { CompleteOptions, LlmAdapter, LlmMessage, LlmRequest, LlmResult, LlmToolCall } from './llm-types.js';
import type { AdapterOptions } from './openai-adapter.js';
import { Attempt, readStream, parseArguments } from './sdk-errors.js';

type Block = Anthropic.Messages.ContentBlockParam;
type Turn = { role: 'user' | 'assistant'; content: Block[] };
type MessageParams = Anthropic.Messages.MessageCreateParamsNonStreaming;
type StreamEvent = Anthropic.Messages.RawMessageStreamEvent;

const kDefaultMaxTokens = 1024;

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** `tool_use.input` must be an object: arguments kept as raw text (not JSON) are sent back under `input`. */
function inputOf(args: unknown): Record<string, unknown> {
  if (typeof args === 'string') {
    const parsed = parseArguments(args);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { input: args };
  }
  return typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : { input: args };
}

function blocksOf(message: LlmMessage, i: number): Turn {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: [{ type: 'text', text: message.content }] };
    case 'tool':
      if (typeof message.toolCallId !== 'string' || message.toolCallId === '') {
        throw new InvalidArgumentError(`messages[${i}]: a 'tool' message needs the toolCallId of the call it answers`);
      }
      return { role: 'user', content: [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }] };
    case 'assistant': {
      // The API refuses empty text blocks, and an assistant turn of tool calls alone is usual.
      const content: Block[] = message.content === '' ? [] : [{ type: 'text', text: message.content }];
      for (const call of message.toolCalls ?? []) content.push({ type: 'tool_use', id: call.id, name: call.name, input: inputOf(call.arguments) });
      return { role: 'assistant', content };
    }
    default:
      throw new InvalidArgumentError(`messages[${i}].role must be 'system', 'user', 'assistant' or 'tool' (received ${String((message as { role?: unknown }).role)})`);
  }
}

function paramsOf(model: string, request: LlmRequest): MessageParams {
  // System messages anywhere in the list join the system prompt: the API has one place for them.
  const system = [request.system, ...request.messages.filter((m) => m.role === 'system').map((m) => m.content)].filter((s) => s !== undefined && s !== '');
  const turns: Turn[] = [];
  request.messages.forEach((message, i) => {
    if (message.role === 'system') return;
    const turn = blocksOf(message, i);
    const last = turns[turns.length - 1];
    // Consecutive turns of one role (several tool results, a result then a question) become one turn.
    if (last !== undefined && last.role === turn.role) last.content.push(...turn.content);
    else turns.push(turn);
  });
  const messages: Anthropic.Messages.MessageParam[] = turns.map((turn) => {
    const only = turn.content.length === 1 ? turn.content[0] : undefined;
    return { role: turn.role, content: only?.type === 'text' ? only.text : turn.content };
  });
  const params: MessageParams = { model: request.model ?? model, max_tokens: request.maxTokens ?? kDefaultMaxTokens, messages };
  if (system.length > 0) params.system = system.join('\n\n');
  // SDK 1.17's types no longer list `temperature` (the API deprecated it); it is sent only when a caller asks, and the API decides.
  if (request.temperature !== undefined) (params as MessageParams & { temperature?: number }).temperature = request.temperature;
  if (request.tools !== undefined && request.tools.length > 0) {
    params.tools = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: tool.parameters as Anthropic.Messages.Tool.InputSchema,
    }));
  }
  return params;
}

function resultOf(provider: string, message: Anthropic.Messages.Message): LlmResult {
  if (typeof message !== 'object' || message === null || !Array.isArray(message.content)) {
    throw new LlmMalformedResponseError(provider, 'the response has no content');
  }
  const usage = message.usage;
  if (typeof usage?.input_tokens !== 'number' || typeof usage.output_tokens !== 'number') throw new LlmMalformedResponseError(provider, 'the response has no usage');
  let text = '';
  const toolCalls: LlmToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') toolCalls.push({ id: block.id, name: block.name, arguments: block.input });
  }
  return {
    text,
    toolCalls,
    usage: { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens },
    model: message.model,
    finishReason: message.stop_reason ?? undefined,
    raw: plain(message),
  };
}

type AssembledBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; json: string } | { type: 'other' };

/** Folds the raw event stream into one message, checking the events come in the order the API sends them. */
class EventAssembly {
  #id = '';
  #model: string;
  #started = false;
  #stopped = false;
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;
  #stopReason: string | undefined;
  #blocks: AssembledBlock[] = [];

  constructor(model: string) {
    this.#model = model;
  }

  /** Takes one event; returns its text delta ('' when it has none). */
  add(provider: string, event: StreamEvent): string {
    if (typeof event !== 'object' || event === null) throw new LlmMalformedResponseError(provider, 'a stream event is not an object');
    if (!this.#started && event.type !== 'message_start') throw new LlmMalformedResponseError(provider, `${String(event.type)} before message_start`);
    switch (event.type) {
      case 'message_start':
        this.#started = true;
        this.#id = event.message?.id ?? '';
        this.#model = event.message?.model ?? this.#model;
        this.#inputTokens = event.message?.usage?.input_tokens;
        return '';
      case 'content_block_start': {
        const block = event.content_block;
        if (block?.type === 'text') {
          this.#blocks[event.index] = { type: 'text', text: block.text ?? '' };
          return block.text ?? '';
        }
        this.#blocks[event.index] = block?.type === 'tool_use' ? { type: 'tool_use', id: block.id, name: block.name, json: '' } : { type: 'other' };
        return '';
      }
      case 'content_block_delta': {
        const block = this.#blocks[event.index];
        if (block === undefined) throw new LlmMalformedResponseError(provider, `a delta for block ${event.index}, which never started`);
        if (event.delta?.type === 'text_delta' && block.type === 'text') {
          block.text += event.delta.text;
          return event.delta.text;
        }
        if (event.delta?.type === 'input_json_delta' && block.type === 'tool_use') block.json += event.delta.partial_json;
        return '';
      }
      case 'message_delta':
        if (typeof event.usage?.output_tokens === 'number') this.#outputTokens = event.usage.output_tokens;
        // Newer API versions also send the cumulative input count here.
        if (typeof event.usage?.input_tokens === 'number') this.#inputTokens = event.usage.input_tokens;
        this.#stopReason = event.delta?.stop_reason ?? this.#stopReason;
        return '';
      case 'message_stop':
        this.#stopped = true;
        return '';
      default:
        return '';
    }
  }

  result(provider: string): LlmResult {
    if (!this.#stopped) throw new LlmMalformedResponseError(provider, 'the stream ended before message_stop');
    if (this.#inputTokens === undefined || this.#outputTokens === undefined) throw new LlmMalformedResponseError(provider, 'the stream carried no usage');
    let text = '';
    const toolCalls: LlmToolCall[] = [];
    const content: Record<string, unknown>[] = [];
    for (const block of this.#blocks) {
      if (block?.type === 'text') {
        text += block.text;
        content.push({ type: 'text', text: block.text });
      } else if (block?.type === 'tool_use') {
        const input = parseArguments(block.json);
        toolCalls.push({ id: block.id, name: block.name, arguments: input });
        content.push({ type: 'tool_use', id: block.id, name: block.name, input });
      }
    }
    const usage = { input_tokens: this.#inputTokens, output_tokens: this.#outputTokens };
    return {
      text,
      toolCalls,
      usage: { inputTokens: this.#inputTokens, outputTokens: this.#outputTokens },
      model: this.#model,
      finishReason: this.#stopReason,
      raw: plain({ id: this.#id, type: 'message', role: 'assistant', model: this.#model, content, stop_reason: this.#stopReason ?? null, usage }),
    };
  }
}

async function streamed(client: Anthropic, provider: string, params: MessageParams, options: CompleteOptions, attempt: Attempt): Promise<LlmResult> {
  let stream;
  try {
    stream = await client.messages.create({ ...params, stream: true }, attempt.requestOptions);
  } catch (error) {
    throw attempt.fail(error, 'request');
  }
  const assembly = new EventAssembly(params.model);
  await readStream(stream, attempt, (chunk) => assembly.add(provider, chunk), options.onToken);
  return assembly.result(provider);
}

/**
 * An adapter for one model of the Anthropic messages API. The key is required
 * up front (apiKey, ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN): the SDK would
 * otherwise defer to profile files at the first call, and a missing key should
 * fail where the provider is configured.
 */
export function anthropicAdapter(options: AdapterOptions): LlmAdapter {
  const provider = options.name ?? 'anthropic';
  if (typeof options.model !== 'string' || options.model === '') throw new InvalidArgumentError(`${provider}: model must be a non-empty string`);
  const hasKey = [options.apiKey, process.env.ANTHROPIC_API_KEY, process.env.ANTHROPIC_AUTH_TOKEN].some((key) => typeof key === 'string' && key !== '');
  if (!hasKey) throw new InvalidArgumentError(`${provider}: no API key: pass apiKey, or set ANTHROPIC_API_KEY`);
  let client: Anthropic;
  try {
    client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      maxRetries: 0,
      // Every SDK failure becomes a typed error here; the SDK's console lines would say it twice.
      logLevel: process.env.ANTHROPIC_LOG === undefined ? 'off' : undefined,
    });
  } catch (error) {
    throw new InvalidArgumentError(`${provider}: ${(error as Error).message}`, { cause: error });
  }
  return {
    async complete(request: LlmRequest, call: CompleteOptions): Promise<LlmResult> {
      const params = paramsOf(options.model, request);
      const attempt = new Attempt(provider, call, Anthropic);
      try {
        if (request.stream === true) return await streamed(client, provider, params, call, attempt);
        let message: Anthropic.Messages.Message;
        try {
          message = await client.messages.create({ ...params, stream: false }, attempt.requestOptions);
        } catch (error) {
          throw attempt.fail(error, 'request');
        }
        return resultOf(provider, message);
      } finally {
        attempt.end();
      }
    },
  };
}
