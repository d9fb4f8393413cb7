import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'partition-halves',
  description: 'Full partition: main and worker 0 on one side, worker 1 on the other, both ways; then healed.',
  faults: [{ at: '30%', for: '30%', do: { kind: 'partition', groups: [['main', 0], [1]] } }],
});
