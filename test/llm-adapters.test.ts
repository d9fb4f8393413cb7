/**
 * The OpenAI and Anthropic adapters through the real SDKs against the loopback
 * LLM server (bench/llm-server.ts): answers, streams, tool calls, and every way
 * a call can fail, each mapped to its typed error; the server's bill agrees
 * with the usage the adapters report, and charges nothing for broken answers.
 */
import Anthropic from '@anthropic-ai/sdk';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLlmServer, type LlmServer, type LlmReplyRequest } from '../dist/bench/llm-server.js';
import { anthropicAdapter } from '../dist/src/agents/anthropic-adapter.js';
import {
  LlmAbortedError,
  LlmApiError,
  LlmConnectionError,
  LlmMalformedResponseError,
  LlmTimeoutError,
} from '../dist/src/agents/errors.js';
import type { CompleteOptions, LlmAdapter, LlmRequest } from '../dist/src/agents/llm-types.js';
import { openaiAdapter } from '../dist/src/agents/openai-adapter.js';
import { Attempt, retryAfterMsOf } from '../dist/src/agents/sdk-errors.js';
import { InvalidArgumentError } from '../dist/src/errors.js';

type Api = 'openai' | 'anthropic';

const weatherTool = {
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'number' } }, required: ['city'] },
};

/** Offered tools, the server calls one; otherwise it echoes. */
function toolReply(request: LlmReplyRequest) {
  if (request.tools === undefined || request.lastUser.startsWith('no tools')) return undefined;
  return { text: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 3 } }] };
}

function call(extra: Partial<CompleteOptions> = {}): CompleteOptions {
  return { signal: new AbortController().signal, timeoutMs: 10_000, ...extra };
}

function ask(content: string, extra: Partial<LlmRequest> = {}): LlmRequest {
  return { messages: [{ role: 'user', content }], ...extra };
}

/** The rejection of a call, for asserting on its type and fields. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

/** A bare server that answers every request with this SSE text and ends cleanly: streams the loopback server never sends. */
async function sseServer(text: string): Promise<{ url: string; close: () => Promise<void> }> {
  const raw = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(text));
  });
  raw.listen(0, '127.0.0.1');
  await once(raw, 'listening');
  const url = `http://127.0.0.1:${(raw.address() as { port: number }).port}`;
  return {
    url,
    close: async () => {
      raw.closeAllConnections();
      raw.close();
      await once(raw, 'close');
    },
  };
}

const kShortStreams: Record<Api, { name: string; text: string }[]> = {
  openai: [
    { name: 'no finish reason', text: 'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"half "},"finish_reason":null}]}\n\n' },
    {
      name: 'no usage',
      text:
        'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"all"},"finish_reason":"stop"}]}\n\n' +
        'data: [DONE]\n\n',
    },
  ],
  anthropic: [
    {
      name: 'no message_stop',
      text:
        'event: message_start\ndata: {"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n' +
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"half "}}\n\n',
    },
    { name: 'a delta before message_start', text: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}\n\n' },
  ],
};

let server: LlmServer;

beforeAll(async () => {
  server = await startLlmServer();
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  server.resetBill();
  server.configure({ latencyMs: 0, chunkDelayMs: 0, limits: undefined, reply: undefined, apiKey: undefined });
});

const apis: { api: Api; make: (s: LlmServer) => LlmAdapter; finish: { stop: string; tools: string } }[] = [
  {
    api: 'openai',
    make: (s) => openaiAdapter({ model: 'gpt-test', apiKey: 'test-key', baseURL: s.openaiBaseURL, name: 'gpt' }),
    finish: { stop: 'stop', tools: 'tool_calls' },
  },
  {
    api: 'anthropic',
    make: (s) => anthropicAdapter({ model: 'claude-test', apiKey: 'test-key', baseURL: s.anthropicBaseURL, name: 'claude' }),
    finish: { stop: 'end_turn', tools: 'tool_use' },
  },
];

describe.each(apis)('$api adapter', ({ api, make, finish }) => {
  it('answers a prompt, and its usage is what the server billed', async () => {
    const adapter = make(server);
    const result = await adapter.complete(ask('hello there world', { system: 'be brief' }), call());
    expect(result.text).toBe('re: hello there world');
    expect(result.toolCalls).toEqual([]);
    expect(result.finishReason).toBe(finish.stop);
    expect(result.model).toBe(api === 'openai' ? 'gpt-test' : 'claude-test');
    // 'hello there world' is 17 characters (5 tokens), 'be brief' 8 (2); four words out.
    expect(result.usage).toEqual({ inputTokens: 7, outputTokens: 4 });
    const bill = server.bill();
    expect({ inputTokens: bill.inputTokens, outputTokens: bill.outputTokens }).toEqual(result.usage);
    expect(bill).toMatchObject({ requests: 1, completed: 1, failed: 0 });
    expect(bill.byPrompt['hello there world']).toEqual({ requests: 1, completed: 1 });
    expect(JSON.parse(JSON.stringify(result.raw))).toEqual(result.raw);
    expect(server.log[0]).toMatchObject({ api, stream: false, lastUser: 'hello there world', outcome: 'completed', status: 200 });
  });

  it('streams: onToken gets each word in order, and the assembled answer equals the non-streamed one', async () => {
    const adapter = make(server);
    const tokens: string[] = [];
    const result = await adapter.complete(ask('one two three', { stream: true }), call({ onToken: (t) => tokens.push(t) }));
    expect(tokens).toEqual(['re: ', 'one ', 'two ', 'three']);
    expect(result.text).toBe(tokens.join(''));
    const plainResult = await adapter.complete(ask('one two three'), call());
    expect(result.text).toBe(plainResult.text);
    expect(result.usage).toEqual(plainResult.usage);
    expect(result.finishReason).toBe(finish.stop);
    const bill = server.bill();
    expect(bill.completed).toBe(2);
    expect(bill.outputTokens).toBe(2 * result.usage.outputTokens);
    expect(bill.inputTokens).toBe(2 * result.usage.inputTokens);
    expect(JSON.parse(JSON.stringify(result.raw))).toEqual(result.raw);
    expect(server.log[0]).toMatchObject({ stream: true, outcome: 'completed' });
  });

  it('returns tool calls with parsed arguments, non-streaming and streaming', async () => {
    server.configure({ reply: toolReply });
    const adapter = make(server);
    for (const stream of [false, true]) {
      const tokens: string[] = [];
      const result = await adapter.complete(ask('weather in Paris?', { tools: [weatherTool], stream }), call({ onToken: (t) => tokens.push(t) }));
      expect(result.toolCalls).toHaveLength(1);
      expect(result.toolCalls[0]).toMatchObject({ name: 'get_weather', arguments: { city: 'Paris', days: 3 } });
      expect(typeof result.toolCalls[0].id).toBe('string');
      expect(result.toolCalls[0].id.length).toBeGreaterThan(0);
      expect(result.finishReason).toBe(finish.tools);
      expect(result.text).toBe('');
      expect(tokens).toEqual([]);
      const bill = server.bill();
      expect(bill.outputTokens).toBe(bill.completed * result.usage.outputTokens);
    }
    // The tools went out in the API's shape.
    const seen: LlmReplyRequest[] = [];
    server.configure({ reply: (request) => (seen.push(request), undefined) });
    await adapter.complete(ask('no tools called', { tools: [weatherTool] }), call());
    const tool = seen[0].tools?.[0] as Record<string, unknown>;
    if (api === 'openai') expect(tool).toEqual({ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.parameters } });
    else expect(tool).toEqual({ name: 'get_weather', description: 'The weather in a city', input_schema: weatherTool.parameters });
  });

  it('sends a tool-result round (assistant tool calls, then tool messages) in a shape the API accepts', async () => {
    const seen: LlmReplyRequest[] = [];
    server.configure({ reply: (request) => (seen.push(request), undefined) });
    const adapter = make(server);
    const request: LlmRequest = {
      system: 'you forecast',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [
            { id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' } },
            { id: 'call_b', name: 'get_weather', arguments: { city: 'Rome' } },
          ],
        },
        { role: 'tool', toolCallId: 'call_a', content: 'sunny' },
        { role: 'tool', toolCallId: 'call_b', content: 'rain' },
      ],
    };
    const result = await adapter.complete(request, call());
    // The tool results are answers, not prompts: the last prompt is still the question.
    expect(result.text).toBe('re: weather in Paris and Rome?');
    expect(server.log[0]).toMatchObject({ outcome: 'completed', lastUser: 'weather in Paris and Rome?' });
    const messages = seen[0].messages as Record<string, unknown>[];
    if (api === 'openai') {
      expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool']);
      expect(messages[2]).toMatchObject({ content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { id: 'call_b' }] });
      expect(messages[3]).toEqual({ role: 'tool', tool_call_id: 'call_a', content: 'sunny' });
    } else {
      // Alternating turns: both results in one user turn.
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
      expect(messages[1].content).toEqual([
        { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_b', name: 'get_weather', input: { city: 'Rome' } },
      ]);
      expect(messages[2].content).toEqual([
        { type: 'tool_result', tool_use_id: 'call_a', content: 'sunny' },
        { type: 'tool_result', tool_use_id: 'call_b', content: 'rain' },
      ]);
    }
  });

  it('429 with retry-after: LlmApiError, retryable, retryAfterMs from the seconds or the ms header', async () => {
    const adapter = make(server);
    server.inject({ kind: 'status', status: 429, retryAfterSeconds: 2 });
    const seconds = await failure(adapter.complete(ask('a'), call()));
    expect(seconds).toBeInstanceOf(LlmApiError);
    expect(seconds).toMatchObject({ status: 429, retryAfterMs: 2000, retryable: true, code: 'TROUPE_ERR_LLM_API' });
    server.inject({ kind: 'status', status: 429, retryAfterMs: 1500 });
    expect(await failure(adapter.complete(ask('b'), call()))).toMatchObject({ status: 429, retryAfterMs: 1500, retryable: true });
    server.inject({ kind: 'status', status: 429, retryAfterSeconds: 0.25 });
    expect(await failure(adapter.complete(ask('c', { stream: true }), call()))).toMatchObject({ status: 429, retryAfterMs: 250 });
    // Both headers: the precise one wins.
    server.inject({ kind: 'status', status: 429, retryAfterSeconds: 9, retryAfterMs: 120 });
    expect(await failure(adapter.complete(ask('d'), call()))).toMatchObject({ retryAfterMs: 120 });
    expect(server.bill()).toMatchObject({ requests: 4, completed: 0, failed: 4, inputTokens: 0, outputTokens: 0 });
  });

  it('500 is retryable, 400 is not; the message carries the API detail', async () => {
    const adapter = make(server);
    server.inject({ kind: 'status', status: 500 });
    const e500 = await failure(adapter.complete(ask('x'), call()));
    expect(e500).toBeInstanceOf(LlmApiError);
    expect(e500).toMatchObject({ status: 500, retryable: true, retryAfterMs: undefined });
    expect(e500.message).toContain('injected fault: status 500');
    server.inject({ kind: 'status', status: 400 }, { match: (info) => info.stream });
    const e400 = await failure(adapter.complete(ask('x', { stream: true }), call()));
    expect(e400).toMatchObject({ status: 400, retryable: false });
  });

  it('a hung server: timeoutMs 300 gives LlmTimeoutError quickly', async () => {
    const adapter = make(server);
    for (const stream of [false, true]) {
      server.inject({ kind: 'hang' });
      const started = Date.now();
      const error = await failure(adapter.complete(ask('hang', { stream }), call({ timeoutMs: 300 })));
      expect(error).toBeInstanceOf(LlmTimeoutError);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    expect(server.bill()).toMatchObject({ completed: 0, failed: 2 });
  });

  it('a stream that stalls after its headers still times out (the SDK timeout covers only the wait for headers)', async () => {
    server.configure({ chunkDelayMs: 60_000 });
    const adapter = make(server);
    const tokens: string[] = [];
    const error = await failure(adapter.complete(ask('slow words here', { stream: true }), call({ timeoutMs: 300, onToken: (t) => tokens.push(t) })));
    expect(error).toBeInstanceOf(LlmTimeoutError);
    expect(server.bill().completed).toBe(0);
  });

  it('malformed answers (bad SSE data, truncated JSON) are LlmMalformedResponseError, and not billed', async () => {
    const adapter = make(server);
    server.inject({ kind: 'malformed' }, { count: 2 });
    const tokens: string[] = [];
    const streamed = await failure(adapter.complete(ask('several words in this answer', { stream: true }), call({ onToken: (t) => tokens.push(t) })));
    expect(streamed).toBeInstanceOf(LlmMalformedResponseError);
    expect(tokens.length).toBeGreaterThan(0);
    const json = await failure(adapter.complete(ask('several words in this answer'), call()));
    expect(json).toBeInstanceOf(LlmMalformedResponseError);
    expect(server.bill()).toMatchObject({ requests: 2, completed: 0, failed: 2, inputTokens: 0, outputTokens: 0 });
    expect(server.log.map((e) => e.outcome)).toEqual(['malformed', 'malformed']);
  });

  it('a cut stream (the socket dies mid-way) is LlmMalformedResponseError, and not billed', async () => {
    const adapter = make(server);
    server.inject({ kind: 'cut' }, { count: 2 });
    const streamed = await failure(adapter.complete(ask('several words in this answer', { stream: true }), call()));
    expect(streamed).toBeInstanceOf(LlmMalformedResponseError);
    const json = await failure(adapter.complete(ask('several words in this answer'), call()));
    expect(json).toBeInstanceOf(LlmMalformedResponseError);
    expect(server.bill()).toMatchObject({ completed: 0, failed: 2, inputTokens: 0, outputTokens: 0 });
    // The connection pool recovers: the next call is whole.
    expect((await adapter.complete(ask('after'), call())).text).toBe('re: after');
  });

  it('a stream that ends cleanly but short (no final events, no usage, out of order) is malformed, never a partial answer', async () => {
    for (const { name, text } of kShortStreams[api]) {
      const raw = await sseServer(text);
      try {
        const adapter =
          api === 'openai' ? openaiAdapter({ model: 'm', apiKey: 'k', baseURL: `${raw.url}/v1` }) : anthropicAdapter({ model: 'm', apiKey: 'k', baseURL: raw.url });
        const error = await failure(adapter.complete(ask('q', { stream: true }), call()));
        expect(error, name).toBeInstanceOf(LlmMalformedResponseError);
      } finally {
        await raw.close();
      }
    }
  });

  it('abort via the signal: LlmAbortedError, before the answer and in the middle of a stream', async () => {
    const adapter = make(server);
    server.inject({ kind: 'hang' });
    const before = new AbortController();
    const arrived = new Promise<void>((resolve) => {
      const off = server.onRequest(() => {
        off();
        resolve();
      });
    });
    const pending = failure(adapter.complete(ask('wait'), call({ signal: before.signal })));
    await arrived;
    before.abort();
    expect(await pending).toBeInstanceOf(LlmAbortedError);

    server.configure({ chunkDelayMs: 20 });
    const midway = new AbortController();
    const tokens: string[] = [];
    const onToken = (t: string) => {
      tokens.push(t);
      if (tokens.length === 2) midway.abort();
    };
    const error = await failure(adapter.complete(ask('a b c d e f g h i j k l', { stream: true }), call({ signal: midway.signal, onToken })));
    expect(error).toBeInstanceOf(LlmAbortedError);
    expect(tokens.length).toBeLessThan(13);
    expect(server.bill().completed).toBe(0);

    const already = new AbortController();
    already.abort();
    expect(await failure(adapter.complete(ask('never sent'), call({ signal: already.signal })))).toBeInstanceOf(LlmAbortedError);
  });

  it('a reset connection is LlmConnectionError; a closed port too', async () => {
    const adapter = make(server);
    server.inject({ kind: 'reset' });
    const error = await failure(adapter.complete(ask('reset'), call()));
    expect(error).toBeInstanceOf(LlmConnectionError);
    expect(server.log[0].outcome).toBe('reset');
    const gone = await startLlmServer();
    const goneAdapter = make(gone);
    await gone.close();
    expect(await failure(goneAdapter.complete(ask('nobody'), call()))).toBeInstanceOf(LlmConnectionError);
  });

  it('an onToken that throws fails the call with its own error and aborts the request', async () => {
    server.configure({ chunkDelayMs: 10 });
    const adapter = make(server);
    const mine = new Error('listener broke');
    const error = await failure(adapter.complete(ask('a b c d e f', { stream: true }), call({ onToken: () => { throw mine; } })));
    expect(error).toBe(mine);
    await expect.poll(() => server.log[0]?.outcome).toBe('client-gone');
    expect(server.bill().completed).toBe(0);
  });

  it('server-side rpm cap: the extra requests get 429 with the time the window frees', async () => {
    const limited = await startLlmServer({ limits: { rpm: 3, windowMs: 60_000 } });
    try {
      const adapter = make(limited);
      const results = await Promise.allSettled(['p1', 'p2', 'p3', 'p4', 'p5'].map((p) => adapter.complete(ask(p), call())));
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as LlmApiError);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(rejected).toHaveLength(2);
      for (const e of rejected) {
        expect(e).toBeInstanceOf(LlmApiError);
        expect(e).toMatchObject({ status: 429, retryable: true });
        expect(e.retryAfterMs).toBeGreaterThan(0);
        expect(e.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
      expect(limited.peakRequests(60_000)).toBe(5);
      expect(limited.peakRequests(0)).toBe(0);
      expect(limited.bill()).toMatchObject({ requests: 5, completed: 3, failed: 2 });
      expect(limited.log.filter((e) => e.outcome === 'rate-limited')).toHaveLength(2);
    } finally {
      await limited.close();
    }
  });

  it('honours the environment when options omit the key and the URL', async () => {
    const [keyVar, urlVar] = api === 'openai' ? ['OPENAI_API_KEY', 'OPENAI_BASE_URL'] : ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'];
    const saved = { key: process.env[keyVar], url: process.env[urlVar], token: process.env.ANTHROPIC_AUTH_TOKEN, admin: process.env.OPENAI_ADMIN_KEY };
    const build = () => (api === 'openai' ? openaiAdapter({ model: 'gpt-env' }) : anthropicAdapter({ model: 'claude-env' }));
    try {
      server.configure({ apiKey: 'from-the-env' });
      process.env[keyVar] = 'from-the-env';
      process.env[urlVar] = api === 'openai' ? server.openaiBaseURL : server.anthropicBaseURL;
      const result = await build().complete(ask('env'), call());
      expect(result.text).toBe('re: env');
      expect(server.log[0]).toMatchObject({ outcome: 'completed', model: api === 'openai' ? 'gpt-env' : 'claude-env' });
      // A wrong key is the server's 401, not retryable.
      process.env[keyVar] = 'wrong';
      expect(await failure(build().complete(ask('env'), call()))).toMatchObject({ status: 401, retryable: false });
      delete process.env[keyVar];
      delete process.env.ANTHROPIC_AUTH_TOKEN;
      delete process.env.OPENAI_ADMIN_KEY;
      expect(build).toThrow(InvalidArgumentError);
      expect(build).toThrow(keyVar);
    } finally {
      for (const [name, value] of [[keyVar, saved.key], [urlVar, saved.url], ['ANTHROPIC_AUTH_TOKEN', saved.token], ['OPENAI_ADMIN_KEY', saved.admin]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('max_tokens cuts the answer short, as the API does', async () => {
    const adapter = make(server);
    const result = await adapter.complete(ask('a b c d e f', { maxTokens: 3 }), call());
    expect(result.text).toBe('re: a b ');
    expect(result.usage.outputTokens).toBe(3);
    expect(result.finishReason).toBe(api === 'openai' ? 'length' : 'max_tokens');
  });
});

describe('loopback LLM server', () => {
  it('counts peak concurrency and the rolling request peak', async () => {
    server.configure({ latencyMs: 400 });
    const adapter = apis[0].make(server);
    await Promise.all(['c1', 'c2', 'c3'].map((p) => adapter.complete(ask(p), call())));
    expect(server.peakConcurrent()).toBe(3);
    expect(server.peakRequests(60_000)).toBe(3);
    expect(server.bill().byPrompt).toEqual({ c1: { requests: 1, completed: 1 }, c2: { requests: 1, completed: 1 }, c3: { requests: 1, completed: 1 } });
  });

  it('a tpm cap refuses what would pass the token budget', async () => {
    // 'tpm one' costs 2 input + 3 output tokens = 5.
    const limited = await startLlmServer({ limits: { tpm: 12, windowMs: 60_000 } });
    try {
      const adapter = apis[1].make(limited);
      await adapter.complete(ask('tpm one'), call());
      await adapter.complete(ask('tpm two'), call());
      const error = await failure(adapter.complete(ask('tpm six'), call()));
      expect(error).toMatchObject({ status: 429, retryable: true });
      expect((error as LlmApiError).retryAfterMs).toBeGreaterThan(0);
      expect(limited.bill()).toMatchObject({ completed: 2, failed: 1, inputTokens: 4, outputTokens: 6 });
    } finally {
      await limited.close();
    }
  });

  it('faults can target requests by prompt, and apply count times', async () => {
    const adapter = apis[0].make(server);
    server.inject({ kind: 'status', status: 503 }, { count: 2, match: (info) => info.lastUser === 'target' });
    expect((await adapter.complete(ask('other'), call())).text).toBe('re: other');
    expect(await failure(adapter.complete(ask('target'), call()))).toMatchObject({ status: 503 });
    expect(await failure(adapter.complete(ask('target'), call()))).toMatchObject({ status: 503 });
    expect((await adapter.complete(ask('target'), call())).text).toBe('re: target');
    expect(server.bill().byPrompt.target).toEqual({ requests: 3, completed: 1 });
  });

  it('close() ends hung requests', async () => {
    const own = await startLlmServer();
    own.inject({ kind: 'hang' });
    const pending = failure(apis[0].make(own).complete(ask('held'), call()));
    await new Promise<void>((resolve) => own.onRequest(() => resolve()));
    await own.close();
    expect(await pending).toBeInstanceOf(LlmConnectionError);
  });

  it('rejects unknown options and bad values by name', async () => {
    expect(() => server.configure({ latencyMs: [5, 1] })).toThrow(/latencyMs/);
    expect(() => server.configure({ nope: 1 } as never)).toThrow(/nope/);
    expect(() => server.inject({ kind: 'status', status: 200 })).toThrow(/400\.\.599/);
    await expect(startLlmServer({ limits: { rpm: 0 } })).rejects.toThrow(/limits\.rpm/);
  });
});

describe('sdk error mapping', () => {
  it('reads retry-after-ms, retry-after seconds (fractional) and an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMsOf(new Headers({ 'retry-after-ms': '250' }), now)).toBe(250);
    expect(retryAfterMsOf(new Headers({ 'retry-after': '1.5' }), now)).toBe(1500);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }), now)).toBe(0);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMsOf(new Headers({ 'retry-after-ms': 'x', 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterMsOf(new Headers(), now)).toBeUndefined();
  });

  it("an error event inside a stream maps by its type: overloaded is a retryable 529, an unknown type is malformed", () => {
    const attempt = new Attempt('claude', call(), Anthropic);
    try {
      const overloaded = new Anthropic.APIError(undefined, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, undefined, undefined);
      expect(attempt.fail(overloaded, 'stream')).toMatchObject({ status: 529, retryable: true });
      const odd = new Anthropic.APIError(undefined, { type: 'error', error: { type: 'odd_error', message: 'odd' } }, undefined, undefined);
      expect(attempt.fail(odd, 'stream')).toBeInstanceOf(LlmMalformedResponseError);
    } finally {
      attempt.end();
    }
  });
});
