import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'partition-isolate-main',
  description: 'The main thread (root supervisor, event sink) is cut off from every worker; the workers still reach each other.',
  faults: [{ at: '30%', for: '30%', do: { kind: 'isolate', host: 'main' } }],
});
