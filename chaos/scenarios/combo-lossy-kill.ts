import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'combo-lossy-kill',
  description: 'The lanes between the workers drop 10% and duplicate 10% of their records, and worker 1 is killed in the middle (its restart orders, main → worker, travel clean; see control-restart-lost).',
  faults: [
    { at: '20%', for: '50%', do: { kind: 'link', from: 0, to: 1, dropRate: 0.1, duplicateRate: 0.1 } },
    { at: '20%', for: '50%', do: { kind: 'link', from: 1, to: 0, dropRate: 0.1, duplicateRate: 0.1 } },
    { at: '40%', for: '30%', do: { kind: 'kill-worker', worker: 1 } },
  ],
});
