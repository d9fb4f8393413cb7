import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'link-corrupt',
  description: 'Every lane flips one payload bit in 2% of its records.',
  faults: [{ at: '25%', for: '40%', do: { kind: 'link', from: '*', to: '*', corruptRate: 0.02 } }],
});
