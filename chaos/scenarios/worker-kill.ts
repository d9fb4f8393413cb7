import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'worker-kill',
  description: 'A worker drawn from the seed is terminated from outside; a spare takes over its host.',
  faults: [{ at: '40%', for: '30%', do: { kind: 'kill-worker', worker: 'random-worker' } }],
});
