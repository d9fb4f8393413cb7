// The same five-step shape with no-op steps (a no-op tool, a wait whose signal is already there): what
// orchestration with durable checkpoints costs per step, next to LangGraph's no-op graph.
import { defineWorkflow } from 'troupe/agents';

export default defineWorkflow({
  steps: {
    plan: { run: (input) => input.tag },
    fetch: { needs: ['plan'], run: (input, step) => step.tool('fetch', () => 1) },
    draft: { needs: ['fetch'], run: () => 2 },
    approve: { needs: ['draft'], run: (input, step) => step.waitFor('approval') },
    final: { needs: ['approve'], run: () => 3 },
  },
});
