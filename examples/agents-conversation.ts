// A small swarm of conversation agents. The planner's tools are another agent (the researcher) and a plain
// actor (a notes store): it asks, writes down and answers, all through messages, and each agent's history
// is journaled in SQLite.
//   node dist/examples/agents-conversation.js --loopback   a loopback server plays the model (the default without OPENAI_API_KEY)
//   node dist/examples/agents-conversation.js              with OPENAI_API_KEY set: the real API (OPENAI_BASE_URL, OPENAI_MODEL honoured)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem } from 'troupe';
import { sqliteStore } from 'troupe/persistence';
import { createAgents, openai, type SayReply } from 'troupe/agents';
import { startLlmServer, type LlmReplyRequest } from '../bench/llm-server.js';
import type { Note } from './conversation/notes.js';

/** The loopback's model: the planner researches, then saves what it learnt, then answers; the researcher answers. */
function scriptedModel(request: LlmReplyRequest): { text: string; toolCalls?: { name: string; arguments: unknown }[] } {
  const messages = request.messages as { role: string; content: unknown }[];
  if (request.tools === undefined) return { text: 'Teams want durable state, supervision they can reason about, and backpressure.' };
  const last = messages[messages.length - 1];
  const result = last.role === 'tool' ? (JSON.parse(String(last.content)) as { text?: string; saved?: boolean }) : undefined;
  if (result === undefined) return { text: '', toolCalls: [{ name: 'research', arguments: { text: 'What do teams want from an actor runtime?' } }] };
  if (result.text !== undefined) return { text: '', toolCalls: [{ name: 'save_note', arguments: { title: 'what teams want', text: result.text } }] };
  return { text: 'Plan: lead the 1.0 launch with durable state, show supervision in the guide, benchmark backpressure.' };
}

const loopback = process.argv.includes('--loopback') || process.env.OPENAI_API_KEY === undefined;
const server = loopback ? await startLlmServer({ reply: scriptedModel }) : undefined;
const gpt = server === undefined ? openai({ model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini' }) : openai({ model: 'gpt-4o-mini', apiKey: 'loopback', baseURL: server.openaiBaseURL });
const dir = mkdtempSync(join(tmpdir(), 'troupe-swarm-'));

const system = await ActorSystem.start({ workers: 2, store: sqliteStore({ path: join(dir, 'agents.db') }) });
const agents = createAgents(system, { providers: { gpt } });
const notes = await system.spawn(new URL('./conversation/notes.js', import.meta.url), { name: 'notes' });
const researcher = await agents.conversation(new URL('./conversation/researcher.js', import.meta.url), { name: 'researcher' });
const planner = await agents.conversation(new URL('./conversation/planner.js', import.meta.url), { name: 'planner', tools: { research: researcher, save_note: notes } });

// A turn can take several model calls and tool calls: give the ask room.
const said = await planner.ask<SayReply>({ type: 'say', text: 'Plan the launch of troupe 1.0.' }, { timeoutMs: 120_000 });
for (const call of said.toolCalls) console.log(`planner → ${call.name} ${JSON.stringify(call.arguments)} → ${JSON.stringify(call.result)}`);
console.log(`planner: ${said.text}`);
const saved = await notes.ask<Note[]>({ type: 'list' });
const calls = (await agents.ledger()).reduce((sum, ledger) => sum + ledger.calls, 0);
console.log(`swarm done: ${calls} model calls, ${said.toolCalls.length} tool calls, ${saved.length} note${saved.length === 1 ? '' : 's'} saved`);

await system.shutdown();
await server?.close();
rmSync(dir, { recursive: true, force: true });
