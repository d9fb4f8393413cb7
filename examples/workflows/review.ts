// workflows/review.ts: draft (OpenAI), critique (Anthropic, streamed, a Liquid prompt), a human approval, publish.
import { appendFileSync } from 'node:fs';
import { defineWorkflow } from 'troupe/agents';

export default defineWorkflow({
  steps: {
    draft: { run: (input, step) => step.llm('gpt', { messages: [{ role: 'user', content: `Draft: ${input.topic}` }] }) },
    critique: {
      needs: ['draft'],
      run: async (input, step) =>
        step.llm('claude', { stream: true, messages: [{ role: 'user', content: await step.prompt('Critique: {{ draft.text }}', { draft: step.results.draft }) }] }),
    },
    approve: { needs: ['critique'], run: (input, step) => step.waitFor('approval', { timeoutMs: 86_400_000 }) },
    // Journaled: a resumed run never publishes twice; the key makes a retry after a crash mid-publish idempotent.
    publish: {
      needs: ['approve'],
      run: (input, step) => step.tool('publish', (key) => (appendFileSync(input.outbox, `${key}\t${step.results.draft.text}\n`), { published: true })),
    },
  },
});
