import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'partition-flapping',
  description: 'The halves partition comes and goes: three short cuts, 10% of the run each, 20% apart.',
  faults: [{ at: '20%', for: '10%', repeat: 3, every: '20%', do: { kind: 'partition', groups: [['main', 0], [1]] } }],
});
