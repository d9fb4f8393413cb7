import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'partition-ring',
  description: 'Ring of majorities over 5 hosts: each reaches only its two neighbours, so every host sees a different majority.',
  workers: 4,
  rate: 100,
  faults: [{ at: '30%', for: '30%', do: { kind: 'ring-of-majorities' } }],
});
