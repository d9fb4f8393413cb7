import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'worker-rolling-kills',
  description: 'Worker 0, then worker 1, then worker 0 again, each killed 15% of the run after the last.',
  faults: [
    { at: '25%', for: '15%', do: { kind: 'kill-worker', worker: 0 } },
    { at: '40%', for: '15%', do: { kind: 'kill-worker', worker: 1 } },
    { at: '55%', for: '15%', do: { kind: 'kill-worker', worker: 0 } },
  ],
});
