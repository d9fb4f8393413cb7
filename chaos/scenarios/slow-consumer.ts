import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'slow-consumer',
  description: 'Worker 1 reads at most 1 record per millisecond (about half of what it is sent), then recovers.',
  faults: [{ at: '30%', for: '30%', do: { kind: 'throttle', host: 1, recordsPerMs: 1 } }],
});
