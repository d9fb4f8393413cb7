import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'cluster-nats-failover',
  description: 'Three nodes on a 3-server NATS cluster: one server SIGKILLed, then another; the nodes on it move to the others (frames the client had not written are lost: their asks time out, typed). Every acknowledged append survives, once, in order.',
  cluster: { nodes: 3, ledgers: 24, inflight: 2, natsServers: 3 },
  faults: [
    { at: '15%', for: '25%', do: { kind: 'kill-nats', server: 0 } },
    { at: '55%', for: '25%', do: { kind: 'kill-nats', server: 1 } },
  ],
});
