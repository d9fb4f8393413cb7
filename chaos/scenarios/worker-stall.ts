import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'worker-stall',
  description: 'Worker 1 loops forever; its heartbeat stops, the stall detector (500 ms) terminates and replaces it.',
  faults: [{ at: '30%', for: '40%', do: { kind: 'stall-worker', worker: 1 } }],
});
