// The benchmark pipeline for the kill -9 comparison: as pipeline.ts, with the tool's side effect in a file
// (input.ledger), so an effect repeated after a resume can be counted; prompts name the run and the call.
import { appendFileSync } from 'node:fs';
import { defineWorkflow } from 'troupe/agents';

const call = (n: number) => (input: any, step: any) => step.llm('gpt', { maxTokens: 64, messages: [{ role: 'user', content: `${input.tag} call ${n}` }] });

export default defineWorkflow({
  steps: {
    llm1: { run: call(1) },
    tool: { needs: ['llm1'], run: (input, step) => step.tool('append', () => (appendFileSync(input.ledger, `${input.tag}\n`), true)) },
    llm2: { needs: ['tool'], run: call(2) },
    wait: { needs: ['llm2'], run: (input, step) => step.waitFor('approval') },
    llm3: { needs: ['wait'], run: call(3) },
  },
});
