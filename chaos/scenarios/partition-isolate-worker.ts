import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'partition-isolate-worker',
  description: 'One worker, drawn from the seed, is cut off from every other host.',
  faults: [{ at: '30%', for: '30%', do: { kind: 'isolate', host: 'random-worker' } }],
});
