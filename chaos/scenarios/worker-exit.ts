import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'worker-exit',
  description: 'Worker 0 calls process.exit(3) from inside.',
  faults: [{ at: '40%', for: '30%', do: { kind: 'exit-worker', worker: 0, code: 3 } }],
});
