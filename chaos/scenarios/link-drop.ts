import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'link-drop',
  description: 'Every lane loses 10% of its records (seeded per lane).',
  faults: [{ at: '25%', for: '40%', do: { kind: 'link', from: '*', to: '*', dropRate: 0.1 } }],
});
