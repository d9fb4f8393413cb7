import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'cluster-kill-node',
  description: 'Three nodes over nats-server and one PostgreSQL journal: a node is SIGKILLed mid-stream and started again later as a new incarnation; its entities answer from the survivors (recovered from the journal), then move back. Every acknowledged append survives, once, in order.',
  cluster: { nodes: 3, ledgers: 24, inflight: 2 },
  faults: [{ at: '20%', for: '35%', do: { kind: 'kill-node', node: 'random-node' } }],
});
