import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'combo-crash-during-partition',
  description: 'Worker 1 is partitioned away, and the consumer on worker 0 crashes meanwhile: its new incarnation must pick up the producer on worker 1 after the heal.',
  faults: [
    { at: '25%', for: '30%', do: { kind: 'partition', groups: [['main', 0], [1]] } },
    { at: '35%', for: '20%', do: { kind: 'crash-actor', actor: 'consumer', host: 0 } },
  ],
});
