import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'partition-bridge',
  description: 'Bridge: workers 0 and 2 cannot reach each other; worker 1 reaches both sides; main reaches everyone.',
  workers: 3,
  faults: [{ at: '30%', for: '30%', do: { kind: 'bridge', a: ['main', 0, 1], b: ['main', 1, 2], bridge: 1 } }],
});
