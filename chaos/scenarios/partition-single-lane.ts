import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'partition-single-lane',
  description: 'A single lane cut: worker 1 → main loses everything (replies, events and acks towards main).',
  faults: [{ at: '30%', for: '30%', do: { kind: 'cut', from: 1, to: 'main' } }],
});
