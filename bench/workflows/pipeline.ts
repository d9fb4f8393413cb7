// The benchmark graph: llm → tool → llm (streamed) → human wait → llm, one step after another.
import { defineWorkflow } from 'troupe/agents';

const call = (what: string, stream = false) => (input: any, step: any) =>
  step.llm('gpt', { stream, maxTokens: 64, messages: [{ role: 'user', content: `${input.tag} ${what}` }] });

export default defineWorkflow({
  steps: {
    plan: { run: call('plan the work') },
    fetch: { needs: ['plan'], run: (input, step) => step.tool('fetch', (key) => ({ key, words: step.results.plan.text.split(' ').length })) },
    draft: { needs: ['fetch'], run: call('draft it', true) },
    approve: { needs: ['draft'], run: (input, step) => step.waitFor('approval') },
    final: { needs: ['approve'], run: call('finish it') },
  },
});
