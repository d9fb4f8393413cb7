/**
 * The OpenAI chat completions API through the official SDK (`openai`), one
 * attempt per call: the SDK's own retries are off, because the provider actor
 * owns retries and they must share its budget. Streams ask for the usage
 * chunk, and a stream that ends without a finish reason or without usage is
 * malformed, never a partial answer.
 */
import OpenAI from 'openai';
import { InvalidArgumentError } from '../errors.js';
import { LlmMalformedResponseError } from './errors.js';
import type { CompleteOptions, LlmAdapter, LlmMessage, LlmRequest, LlmResult, LlmToolCall } from './llm-types.js';
import { Attempt, readStream, parseArguments } from './sdk-errors.js';

type ChatMessage = OpenAI.Chat.ChatCompletionMessageParam;
type ChatParams = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

export interface AdapterOptions {
  model: string;
  /** Defaults to what the SDK reads from the environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`). */
  apiKey?: string;
  /** Defaults to `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL`, then the API's own address. */
  baseURL?: string;
  /** The provider's name, for error messages. */
  name?: string;
}

const kDefaultMaxTokens = 1024;

/** A JSON round trip: the SDK's objects carry non-enumerable extras (`_request_id`) and must journal as plain data. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function argumentsText(args: unknown): string {
  return typeof args === 'string' ? args : JSON.stringify(args ?? {});
}

function messageOf(message: LlmMessage, i: number): ChatMessage {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'tool':
      if (typeof message.toolCallId !== 'string' || message.toolCallId === '') {
        throw new InvalidArgumentError(`messages[${i}]: a 'tool' message needs the toolCallId of the call it answers`);
      }
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: message.content };
      return {
        role: 'assistant',
        // The API takes null content beside tool calls; an empty string is a (pointless) empty text.
        content: message.content === '' ? null : message.content,
        tool_calls: calls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: argumentsText(call.arguments) } })),
      };
    }
    default:
      throw new InvalidArgumentError(`messages[${i}].role must be 'system', 'user', 'assistant' or 'tool' (received ${String((message as { role?: unknown }).role)})`);
  }
}

function paramsOf(model: string, request: LlmRequest): ChatParams {
  const messages: ChatMessage[] = request.system === undefined ? [] : [{ role: 'system', content: request.system }];
  request.messages.forEach((message, i) => messages.push(messageOf(message, i)));
  const params: ChatParams = { model: request.model ?? model, messages, max_tokens: request.maxTokens ?? kDefaultMaxTokens };
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.tools !== undefined && request.tools.length > 0) {
    params.tools = request.tools.map((tool) => ({
      type: 'function' as const,
      function: { name: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), parameters: tool.parameters },
    }));
  }
  return params;
}

function resultOf(provider: string, completion: OpenAI.Chat.ChatCompletion): LlmResult {
  const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
  if (choice === undefined || typeof choice.message !== 'object' || choice.message === null) {
    throw new LlmMalformedResponseError(provider, 'the response has no choices');
  }
  const usage = completion.usage;
  if (typeof usage?.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') {
    throw new LlmMalformedResponseError(provider, 'the response has no usage');
  }
  const toolCalls: LlmToolCall[] = (choice.message.tool_calls ?? []).flatMap((call) =>
    call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: parseArguments(call.function.arguments) }] : [],
  );
  return {
    text: choice.message.content ?? '',
    toolCalls,
    usage: { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens },
    model: completion.model,
    finishReason: choice.finish_reason ?? undefined,
    raw: plain(completion),
  };
}

/** Folds stream chunks into one answer: text in order, tool calls by index, the finish reason and the usage chunk. */
class ChunkAssembly {
  #id = '';
  #model: string;
  #text = '';
  #calls: { id: string; name: string; args: string }[] = [];
  #finishReason: string | undefined;
  #usage: OpenAI.CompletionUsage | undefined;

  constructor(model: string) {
    this.#model = model;
  }

  /** Takes one chunk; returns its text delta ('' when it has none). */
  add(provider: string, chunk: OpenAI.Chat.ChatCompletionChunk): string {
    if (typeof chunk !== 'object' || chunk === null || !Array.isArray(chunk.choices)) {
      throw new LlmMalformedResponseError(provider, 'a stream chunk has no choices');
    }
    if (typeof chunk.id === 'string' && chunk.id !== '') this.#id = chunk.id;
    if (typeof chunk.model === 'string' && chunk.model !== '') this.#model = chunk.model;
    if (chunk.usage) this.#usage = chunk.usage;
    let text = '';
    for (const choice of chunk.choices) {
      if (choice.index !== 0) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string') text += delta.content;
      for (const part of delta.tool_calls ?? []) {
        const slot = (this.#calls[part.index] ??= { id: '', name: '', args: '' });
        if (part.id) slot.id = part.id;
        if (part.function?.name) slot.name += part.function.name;
        if (part.function?.arguments) slot.args += part.function.arguments;
      }
      if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    }
    this.#text += text;
    return text;
  }

  result(provider: string): LlmResult {
    const usage = this.#usage;
    if (this.#finishReason === undefined) throw new LlmMalformedResponseError(provider, 'the stream ended without a finish reason');
    if (typeof usage?.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') {
      throw new LlmMalformedResponseError(provider, 'the stream ended without usage');
    }
    const calls = this.#calls.filter((call) => call !== undefined);
    const toolCalls = calls.map((call) => ({ id: call.id, name: call.name, arguments: parseArguments(call.args) }));
    const message: Record<string, unknown> = { role: 'assistant', content: this.#text };
    if (calls.length > 0) message.tool_calls = calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.args } }));
    return {
      text: this.#text,
      toolCalls,
      usage: { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens },
      model: this.#model,
      finishReason: this.#finishReason,
      raw: plain({ id: this.#id, model: this.#model, choices: [{ index: 0, message, finish_reason: this.#finishReason }], usage }),
    };
  }
}

async function streamed(client: OpenAI, provider: string, params: ChatParams, options: CompleteOptions, attempt: Attempt): Promise<LlmResult> {
  let stream;
  try {
    stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, attempt.requestOptions);
  } catch (error) {
    throw attempt.fail(error, 'request');
  }
  const assembly = new ChunkAssembly(params.model);
  await readStream(stream, attempt, (chunk) => assembly.add(provider, chunk), options.onToken);
  return assembly.result(provider);
}

/** An adapter for one model of the OpenAI chat completions API (or any server that speaks it). */
export function openaiAdapter(options: AdapterOptions): LlmAdapter {
  const provider = options.name ?? 'openai';
  if (typeof options.model !== 'string' || options.model === '') throw new InvalidArgumentError(`${provider}: model must be a non-empty string`);
  let client: OpenAI;
  try {
    client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      maxRetries: 0,
      // Every SDK failure becomes a typed error here; the SDK's console lines (a stream chunk that is not JSON) would say it twice.
      logLevel: process.env.OPENAI_LOG === undefined ? 'off' : undefined,
    });
  } catch (error) {
    throw new InvalidArgumentError(`${provider}: no API key: pass apiKey, or set OPENAI_API_KEY (${(error as Error).message})`, { cause: error });
  }
  return {
    async complete(request: LlmRequest, call: CompleteOptions): Promise<LlmResult> {
      const params = paramsOf(options.model, request);
      const attempt = new Attempt(provider, call, OpenAI);
      try {
        if (request.stream === true) return await streamed(client, provider, params, call, attempt);
        let completion: OpenAI.Chat.ChatCompletion;
        try {
          completion = await client.chat.completions.create({ ...params, stream: false }, attempt.requestOptions);
        } catch (error) {
          throw attempt.fail(error, 'request');
        }
        return resultOf(provider, completion);
      } finally {
        attempt.end();
      }
    },
  };
}
