import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'partition-one-way',
  description: 'One-way cut: worker 0 cannot send to worker 1, but hears it (data flows one way, acks the other).',
  faults: [{ at: '30%', for: '30%', do: { kind: 'split', a: [0], b: [1], oneWay: true } }],
});
