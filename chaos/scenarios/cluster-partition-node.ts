import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'cluster-partition-node',
  description: 'A node cut off from NATS (no heartbeats, frames or requests either way) for 3 s (in runs under 4 s, until 80% of the run): past the detector\'s down time each side declares the other down and its entities move to the majority; after the heal the cut-off node is restarted to rejoin. Every acknowledged append survives, once, in order (two activations of one entity meet at the journal, which refuses the second writer).',
  cluster: { nodes: 3, ledgers: 24, inflight: 2 },
  faults: [{ at: '20%', for: '3s', do: { kind: 'isolate-node', node: 'random-node' } }],
});
