import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'cluster-flapping',
  description: 'A node\'s connection comes and goes: four cuts of 12% of the run, 20% apart (a 10 s run: 1.2 s each, past the 1 s suspicion, short of the 2 s down time). Every acknowledged append survives, once, in order.',
  cluster: { nodes: 3, ledgers: 24, inflight: 2 },
  faults: [{ at: '10%', for: '12%', repeat: 4, every: '20%', do: { kind: 'isolate-node', node: 'random-node' } }],
});
