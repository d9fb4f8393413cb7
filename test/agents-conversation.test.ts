/**
 * Conversation agents end to end: durable actors on real workers, a real
 * SQLite journal, the official SDKs as clients of the loopback server, whose
 * `reply` function plays the model (it calls tools until it sees their
 * results) and whose bill shows every model call made. The kill -9 case
 * runs the agent in a child process (test/fixtures/conversation-child.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ActorRef } from 'troupe';
import { sqliteStore } from 'troupe/persistence';
import { anthropic, createAgents, defineConversation, openai, type Agents, type LlmMessage, type SayReply } from 'troupe/agents';
import type { LlmReplyRequest } from '../dist/bench/llm-server.js';
import { unansweredCalls, windowOf } from '../dist/src/agents/conversation-history.js';
import { dir, server, startSystem, stopSystem, system, useLoopbackServer } from './agents-harness.js';

const conversation = (name: string): URL => new URL(`../dist/test/fixtures/conversations/${name}.js`, import.meta.url);
const kvTool = new URL('../dist/test/fixtures/kv-tool.js', import.meta.url);
const askWorkflow = new URL('../dist/test/fixtures/workflows/ask-conversation.js', import.meta.url);
const kAsk = { timeoutMs: 30_000 };
useLoopbackServer('troupe-conversation-', 5);

async function boot(name: string): Promise<Agents> {
  await startSystem({ workers: 2, logLevel: 'silent', store: sqliteStore({ path: join(dir, `${name}.db`) }) });
  const agents = createAgents(system!, {
    providers: {
      gpt: openai({ model: 'gpt-4o-mini', apiKey: 'test', baseURL: server.openaiBaseURL }),
      claude: anthropic({ model: 'claude-sonnet-4-5', apiKey: 'test', baseURL: server.anthropicBaseURL }),
    },
  });
  await agents.ready;
  return agents;
}

/** The tool results the request ends with, in either API's shape: what the model is answering. */
function trailingToolResults(request: LlmReplyRequest): string[] {
  const messages = request.messages as any[];
  const last = messages[messages.length - 1];
  if (request.api === 'anthropic') {
    if (last?.role !== 'user' || !Array.isArray(last.content)) return [];
    return last.content.filter((b: any) => b.type === 'tool_result').map((b: any) => String(b.content));
  }
  const results: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i].role === 'tool'; i--) results.unshift(messages[i].content);
  return results;
}

const toolNames = (request: LlmReplyRequest): string[] => (request.tools ?? []).map((t: any) => t.function?.name ?? t.name);

/** A model that keeps facts: `remember ...` stores color=blue, `recall ...` reads it, and with the results in hand it says them. */
function keeperModel(request: LlmReplyRequest) {
  const results = trailingToolResults(request);
  if (results.length > 0) return { text: `done: ${results.join(' ')}` };
  if (request.lastUser.startsWith('remember')) return { text: '', toolCalls: [{ name: 'remember', arguments: { key: 'color', value: 'blue' } }] };
  if (request.lastUser.startsWith('recall')) return { text: '', toolCalls: [{ name: 'recall', arguments: { key: 'color' } }] };
  return undefined; // the echo: `re: <last user text>`
}

async function keeper(agents: Agents, name: string, exportName?: string): Promise<{ agent: ActorRef; kv: ActorRef }> {
  const kv = await system!.spawn(kvTool);
  const agent = await agents.conversation(conversation('keeper'), { name, tools: { remember: kv, recall: kv }, ...(exportName === undefined ? {} : { export: exportName }) });
  return { agent, kv };
}

describe('conversation agents', () => {
  it('answers a say: the model calls a tool, a real actor serves it, the model answers with its result (OpenAI)', async () => {
    const agents = await boot('openai');
    server.configure({ reply: keeperModel });
    const { agent, kv } = await keeper(agents, 'keeper-1');
    const said = await agent.ask<SayReply>({ type: 'say', text: 'remember my color is blue' }, kAsk);
    expect(said.text).toBe('done: {"ok":true,"key":"color"}');
    expect(said.toolCalls).toEqual([{ name: 'remember', arguments: { key: 'color', value: 'blue' }, result: { ok: true, key: 'color' } }]);
    expect(await kv.ask({ type: 'dump' })).toEqual({ color: 'blue' });
    const recalled = await agent.ask<SayReply>({ type: 'say', text: 'recall my color' }, kAsk);
    expect(recalled.text).toBe('done: {"key":"color","value":"blue"}');

    const bill = server.bill();
    expect(bill.completed).toBe(4);
    expect(said.usage.inputTokens + recalled.usage.inputTokens).toBe(bill.inputTokens);
    expect(said.usage.outputTokens + recalled.usage.outputTokens).toBe(bill.outputTokens);
    const history = await agent.ask<LlmMessage[]>({ type: 'history' }, kAsk);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    expect(history[1].toolCalls).toEqual([{ id: expect.any(String), name: 'remember', arguments: { key: 'color', value: 'blue' } }]);
    expect(history[2]).toEqual({ role: 'tool', toolCallId: history[1].toolCalls![0].id, content: '{"ok":true,"key":"color"}' });
    // The same name is the same agent.
    expect((await agents.conversation(conversation('keeper'), { name: 'keeper-1', tools: { remember: kv, recall: kv } })).id).toBe(agent.id);
  });

  it('runs the same turn through the Anthropic provider', async () => {
    const agents = await boot('anthropic');
    server.configure({ reply: keeperModel });
    const { agent, kv } = await keeper(agents, 'keeper-claude', 'claude');
    const said = await agent.ask<SayReply>({ type: 'say', text: 'remember my color is blue' }, kAsk);
    expect(said.text).toBe('done: {"ok":true,"key":"color"}');
    expect(said.toolCalls).toEqual([{ name: 'remember', arguments: { key: 'color', value: 'blue' }, result: { ok: true, key: 'color' } }]);
    expect(await kv.ask({ type: 'dump' })).toEqual({ color: 'blue' });
    expect(server.log.map((e) => e.api)).toEqual(['anthropic', 'anthropic']);
  });

  it('recovers its history after a graceful restart on the same SQLite file, and sends it to the model', async () => {
    let agents = await boot('restart');
    server.configure({ reply: keeperModel });
    let { agent } = await keeper(agents, 'keeper-durable');
    await agent.ask({ type: 'say', text: 'remember my color is blue' }, kAsk);
    await agent.ask({ type: 'say', text: 'hello there' }, kAsk);
    const before = await agent.ask<LlmMessage[]>({ type: 'history' }, kAsk);
    expect(before).toHaveLength(6);
    await stopSystem();

    agents = await boot('restart');
    ({ agent } = await keeper(agents, 'keeper-durable'));
    expect(await agent.ask({ type: 'history' }, kAsk)).toEqual(before);
    let seen: any[] = [];
    server.configure({ reply: (request) => ((seen = request.messages), undefined) });
    expect((await agent.ask<SayReply>({ type: 'say', text: 'and now?' }, kAsk)).text).toBe('re: and now?');
    // The system prompt, the six recovered messages, the new question.
    expect(seen).toHaveLength(8);
    expect(seen.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['remember my color is blue', 'hello there', 'and now?']);
  });

  it('survives kill -9 in the middle of a turn: the history is back, and the cut-off tool call is answered as interrupted', async () => {
    const db = 'kill';
    server.configure({ reply: (request) => (request.lastUser === 'hang' && trailingToolResults(request).length === 0 ? { text: '', toolCalls: [{ name: 'explode', arguments: {} }] } : undefined) });
    const child = fileURLToPath(new URL('../dist/test/fixtures/conversation-child.js', import.meta.url));
    const proc = spawn(process.execPath, [child, join(dir, `${db}.db`), server.openaiBaseURL, 'hang'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
    // The tool actor prints once it is asked, which is after the model's answer with the call was journaled.
    for await (const line of createInterface({ input: proc.stdout! })) {
      if (JSON.parse(line).type === 'toolCalled') proc.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const agents = await boot(db);
    const kv = await system!.spawn(kvTool);
    const agent = await agents.conversation(conversation('fragile'), { name: 'crashy', tools: { explode: kv, gone: kv } });
    const recovered = await agent.ask<LlmMessage[]>({ type: 'history' }, kAsk);
    expect(recovered.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(recovered[1].toolCalls?.map((c) => c.name)).toEqual(['explode']);
    let sent: any[] = [];
    server.configure({ reply: (request) => ((sent = request.messages), undefined) });
    expect((await agent.ask<SayReply>({ type: 'say', text: 'after the crash' }, kAsk)).text).toBe('re: after the crash');
    const history = await agent.ask<LlmMessage[]>({ type: 'history' }, kAsk);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user', 'assistant']);
    expect(history[2].toolCallId).toBe(recovered[1].toolCalls![0].id);
    expect(JSON.parse(history[2].content).error.code).toBe('TROUPE_ERR_TURN_INTERRUPTED');
    // What the model was sent answers the cut-off call before the new question, as the APIs require.
    expect(sent.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
    expect(server.bill().completed).toBe(2); // the child's call, and the new turn's
  });

  it('uses another agent as a tool: agents coordinate through messages', async () => {
    const agents = await boot('two-agents');
    server.configure({
      reply: (request) => {
        if (!toolNames(request).includes('research')) return undefined; // the researcher echoes
        const results = trailingToolResults(request);
        if (results.length > 0) return { text: `plan from: ${results[0]}` };
        return { text: '', toolCalls: [{ name: 'research', arguments: { text: 'what do actors need?' } }] };
      },
    });
    const researcher = await agents.conversation(conversation('planner'), { name: 'researcher', export: 'researcher' });
    const planner = await agents.conversation(conversation('planner'), { name: 'planner', tools: { research: researcher } });
    const said = await planner.ask<SayReply>({ type: 'say', text: 'make a plan' }, kAsk);
    expect(said.text).toBe('plan from: {"text":"re: what do actors need?"}');
    expect(said.toolCalls).toEqual([{ name: 'research', arguments: { text: 'what do actors need?' }, result: { text: 're: what do actors need?' } }]);
    expect(await researcher.ask({ type: 'history' }, kAsk)).toEqual([
      { role: 'user', content: 'what do actors need?' },
      { role: 'assistant', content: 're: what do actors need?' },
    ]);
    expect(server.bill().completed).toBe(3);
  });

  it('tells the model when a tool actor throws, is stopped, or does not exist, and the turn still ends', async () => {
    const agents = await boot('failing-tools');
    const seen: string[][] = [];
    server.configure({
      reply: (request) => {
        const results = trailingToolResults(request);
        if (results.length === 0) return { text: '', toolCalls: [{ name: 'explode', arguments: {} }, { name: 'gone', arguments: {} }, { name: 'nope', arguments: {} }] };
        seen.push(results);
        return { text: `saw ${results.length} errors` };
      },
    });
    const kv = await system!.spawn(kvTool);
    const stopped = await system!.spawn(kvTool);
    await system!.stop(stopped);
    const agent = await agents.conversation(conversation('fragile'), { name: 'fragile-1', tools: { explode: kv, gone: stopped } });
    const said = await agent.ask<SayReply>({ type: 'say', text: 'try everything' }, kAsk);
    expect(said.text).toBe('saw 3 errors');
    const codes = said.toolCalls.map((call) => (call.result as { error: { code: string } }).error.code);
    expect(codes).toEqual(['TROUPE_ERR_ACTOR_CRASHED', 'TROUPE_ERR_ACTOR_NOT_FOUND', 'TROUPE_ERR_UNKNOWN_TOOL']);
    expect(seen[0].map((content) => JSON.parse(content).error.code)).toEqual(codes);
    // The tool actor that threw was restarted by its supervisor; the agent goes on.
    expect(await kv.ask({ type: 'dump' })).toEqual({});
    expect((await agent.ask<SayReply>({ type: 'say', text: 'again' }, kAsk)).text).toBe('saw 3 errors');
  });

  it('gives up a turn past maxToolRounds with a typed error, and the next turn works on a history the APIs accept', async () => {
    const agents = await boot('rounds');
    server.configure({ reply: (request) => (request.lastUser === 'loop' ? { text: '', toolCalls: [{ name: 'explode', arguments: {} }] } : undefined) });
    const kv = await system!.spawn(kvTool);
    const agent = await agents.conversation(conversation('fragile'), { name: 'looper', tools: { explode: kv, gone: kv } });
    await expect(agent.ask({ type: 'say', text: 'loop' }, kAsk)).rejects.toMatchObject({ code: 'TROUPE_ERR_TOOL_ROUNDS_EXCEEDED' });
    expect(server.bill().completed).toBe(3); // two rounds of tools, then the answer that would have been a third
    const history = await agent.ask<LlmMessage[]>({ type: 'history' }, kAsk);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant', 'tool']);
    expect(JSON.parse(history[6].content).error.code).toBe('TROUPE_ERR_TOOL_ROUNDS_EXCEEDED');
    expect((await agent.ask<SayReply>({ type: 'say', text: 'stop it' }, kAsk)).text).toBe('re: stop it');
  });

  it('takes turns one at a time, in order: each model call sees the turns before it', async () => {
    const agents = await boot('order');
    server.configure({ latencyMs: 30 });
    const { agent } = await keeper(agents, 'keeper-order');
    const seen: { lastUser: string; messages: number }[] = [];
    server.configure({ reply: (request) => (seen.push({ lastUser: request.lastUser, messages: request.messages.length }), undefined) });
    const replies = await Promise.all(['one', 'two', 'three'].map((text) => agent.ask<SayReply>({ type: 'say', text }, kAsk)));
    expect(replies.map((r) => r.text)).toEqual(['re: one', 're: two', 're: three']);
    // A system message, then two messages per earlier turn, then the question.
    expect(seen).toEqual([
      { lastUser: 'one', messages: 2 },
      { lastUser: 'two', messages: 4 },
      { lastUser: 'three', messages: 6 },
    ]);
    expect(server.peakConcurrent()).toBe(1);
  });

  it('holds a conversation from a workflow step: step.ask is journaled, and a resumed run does not ask again', async () => {
    let agents = await boot('workflow-ask');
    let helper = await agents.conversation(conversation('planner'), { name: 'helper', export: 'researcher' });
    const run = agents.get('ask-1');
    const asked = run.events.waitFor('custom', (e) => e.name === 'asked');
    const waiting = run.events.waitFor('waiting');
    await agents.start(askWorkflow, { agent: helper, text: 'hello agent' }, { id: 'ask-1' });
    expect((await asked).data).toMatchObject({ text: 're: hello agent' });
    await waiting;
    expect(server.bill().completed).toBe(1);
    await stopSystem();

    // A new process on the same file: the run resumes, its step runs again, and its ask is answered from the journal.
    agents = await boot('workflow-ask');
    helper = await agents.conversation(conversation('planner'), { name: 'helper', export: 'researcher' });
    const resumed = agents.get('ask-1');
    expect(await resumed.signal('go')).toBe(true);
    expect(await resumed.result()).toEqual({ chat: 're: hello agent' });
    expect(server.bill().requests).toBe(1);
    expect((await helper.ask<LlmMessage[]>({ type: 'history' }, kAsk)).filter((m) => m.role === 'user')).toHaveLength(1);
  });

  it('checks its definition and its spawn: every declared tool needs an actor, and nothing else is taken', async () => {
    expect(() => defineConversation({ provider: 'gpt', maxToolRounds: 0 })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION', option: 'maxToolRounds' }));
    expect(() => defineConversation({ provider: 'gpt', tools: { 'bad name': { parameters: {} } } })).toThrow(/tools\.bad name/);
    expect(() => defineConversation({ provider: 'gpt', tools: { t: { description: 'x' } as any } })).toThrow(/tools\.t\.parameters/);
    expect(() => defineConversation({ provider: 'gpt', colour: 'blue' } as any)).toThrow(/colour/);
    const agents = await boot('checks');
    const kv = await system!.spawn(kvTool);
    await expect(agents.conversation(conversation('keeper'), { name: 'k', tools: { remember: kv } })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION', message: /missing: recall/ });
    await expect(agents.conversation(conversation('keeper'), { name: 'k', tools: { remember: kv, recall: kv, extra: kv } })).rejects.toMatchObject({ option: 'tools.extra' });
    await expect(agents.conversation(kvTool, { name: 'k' })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT', message: /not made by defineConversation/ });
    const agent = await agents.conversation(conversation('planner'), { name: 'r', export: 'researcher' });
    await expect(agent.ask({ type: 'say', text: '' }, kAsk)).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT' });
    await expect(agent.ask({ type: 'tool', name: 'r', arguments: { nothing: 1 } }, kAsk)).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT' });
    expect(server.bill().requests).toBe(0);
  });

  it('sends the model a window of the history that opens on a user message, and finds cut-off tool calls', () => {
    const user = (content: string): LlmMessage => ({ role: 'user', content });
    const call: LlmMessage = { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 't', arguments: {} }] };
    const result: LlmMessage = { role: 'tool', content: '1', toolCallId: 'c1' };
    const answer: LlmMessage = { role: 'assistant', content: 'a' };
    const history = [user('u1'), call, result, answer, user('u2'), call, result, answer];
    expect(windowOf(history, 100)).toEqual(history);
    expect(windowOf(history, 5)).toEqual(history.slice(4)); // not from the dangling tool result
    expect(windowOf(history, 2)).toEqual(history.slice(4)); // a turn longer than the limit is sent whole
    expect(unansweredCalls(history)).toEqual([]);
    expect(unansweredCalls([user('u1'), call])).toEqual(call.toolCalls);
    expect(unansweredCalls([user('u1'), call, user('u2')])).toEqual([]); // only the last assistant turn counts
  });
});

describe('the example', () => {
  it('runs the planner swarm against the loopback server and ends cleanly', async () => {
    const example = fileURLToPath(new URL('../dist/examples/agents-conversation.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [example, '--loopback'], { timeout: 30_000 });
    // The same lines as docs/guide/agents.md shows.
    expect(stdout.trim().split('\n')).toEqual([
      'planner → research {"text":"What do teams want from an actor runtime?"} → {"text":"Teams want durable state, supervision they can reason about, and backpressure."}',
      'planner → save_note {"title":"what teams want","text":"Teams want durable state, supervision they can reason about, and backpressure."} → {"saved":true,"count":1}',
      'planner: Plan: lead the 1.0 launch with durable state, show supervision in the guide, benchmark backpressure.',
      'swarm done: 4 model calls, 2 tool calls, 1 note saved',
    ]);
  });
});
