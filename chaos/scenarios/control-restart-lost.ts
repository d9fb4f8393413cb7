import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'control-restart-lost',
  description:
    'Main → worker 1 loses every record for a while, and worker 1 is killed meanwhile: the root supervisor orders its actors restarted through that lane, the orders are lost, and it must order them again once an order goes unanswered for spawnTimeoutMs.',
  // The restart order waits spawnTimeoutMs for its answer: short here so the
  // second order lands within even the quick run, after the lane heals.
  system: { spawnTimeoutMs: 600 },
  faults: [
    { at: '30%', for: '30%', do: { kind: 'link', from: 'main', to: 1, dropRate: 1 } },
    { at: '40%', for: '20%', do: { kind: 'kill-worker', worker: 1 } },
  ],
});
