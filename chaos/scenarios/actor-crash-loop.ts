import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'actor-crash-loop',
  description: 'The consumer on main crashes five times, 8% of the run apart (within the root supervisor intensity).',
  faults: [{ at: '25%', for: '8%', repeat: 5, every: '8%', do: { kind: 'crash-actor', actor: 'consumer', host: 'main' } }],
});
