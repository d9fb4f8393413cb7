import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'link-duplicate',
  description: 'Every lane delivers 20% of its records twice.',
  faults: [{ at: '25%', for: '40%', do: { kind: 'link', from: '*', to: '*', duplicateRate: 0.2 } }],
});
