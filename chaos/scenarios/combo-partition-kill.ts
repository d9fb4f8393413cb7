import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'combo-partition-kill',
  description: 'Worker 1 is partitioned away, and worker 0 is killed while the partition holds.',
  faults: [
    { at: '25%', for: '35%', do: { kind: 'partition', groups: [['main', 0], [1]] } },
    { at: '40%', for: '20%', do: { kind: 'kill-worker', worker: 0 } },
  ],
});
