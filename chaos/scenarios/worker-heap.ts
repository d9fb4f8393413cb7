import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'worker-heap',
  description: 'Worker 0 allocates until its 64 MB old-generation limit ends it (ERR_WORKER_OUT_OF_MEMORY).',
  system: { workerResourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } },
  faults: [{ at: '30%', for: '40%', do: { kind: 'exhaust-heap', worker: 0 } }],
});
