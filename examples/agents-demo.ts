// npm run agents:demo: the review workflow on two workers, against the real APIs when OPENAI_API_KEY and
// ANTHROPIC_API_KEY are set, else against a loopback server that speaks both (no key, no network).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem } from 'troupe';
import { sqliteStore } from 'troupe/persistence';
import { anthropic, createAgents, openai } from 'troupe/agents';
import { startLlmServer } from '../bench/llm-server.js';

const real = process.env.OPENAI_API_KEY !== undefined && process.env.ANTHROPIC_API_KEY !== undefined;
const server = real ? undefined : await startLlmServer({ latencyMs: 50 });
const loopback = (baseURL: string | undefined) => (baseURL === undefined ? {} : { apiKey: 'loopback', baseURL });
const dir = mkdtempSync(join(tmpdir(), 'troupe-agents-demo-'));

const system = await ActorSystem.start({ workers: 2, store: sqliteStore({ path: join(dir, 'agents.db') }) });
const agents = createAgents(system, {
  providers: {
    gpt: openai({ model: 'gpt-4o-mini', limits: { rpm: 500, tpm: 200_000, concurrency: 32 }, ...loopback(server?.openaiBaseURL) }),
    claude: anthropic({ model: 'claude-sonnet-4-5', limits: { rpm: 50, tpm: 40_000 }, ...loopback(server?.anthropicBaseURL) }),
  },
});

const run = agents.get('review-1'); // listen before it starts
run.events.on('stepFinished', (e) => console.log(`✓ ${e.step}`));
run.events.on('waiting', () => {
  console.log('  approval requested: approving');
  void run.signal('approval', { ok: true, by: 'demo' }); // a human, from anywhere, also after a restart
});
await agents.start(new URL('./workflows/review.js', import.meta.url), { topic: 'actors', outbox: join(dir, 'outbox.txt') }, { id: 'review-1' });

const result = (await run.result()) as Record<string, any>;
const { usage } = await run.status();
console.log(`critique: ${result.critique.text}`);
console.log(`published: ${result.publish.published}; ${usage.inputTokens} tokens in, ${usage.outputTokens} out`);
await system.shutdown();
await server?.close();
