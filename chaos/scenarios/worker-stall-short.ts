import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'worker-stall-short',
  description: 'Worker 1 runs a synchronous loop for 300 ms, under the stall timeout (500 ms): a pause, not a death.',
  faults: [{ at: '40%', for: '30%', do: { kind: 'stall-worker', worker: 1, ms: 300 } }],
});
