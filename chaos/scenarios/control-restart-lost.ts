import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'control-restart-lost',
  description: 'Main → worker 1 loses every record for a while, and worker 1 is killed meanwhile: the root supervisor orders its actors restarted through that lane.',
  knownIssue:
    'a restart order lost in a lane is never sent again: Supervisor.#restart swallows the failed restart (src/supervision/supervisor.ts), so the actors of the dead worker stay down for good, unreported, after the lane heals',
  faults: [
    { at: '30%', for: '30%', do: { kind: 'link', from: 'main', to: 1, dropRate: 1 } },
    { at: '40%', for: '20%', do: { kind: 'kill-worker', worker: 1 } },
  ],
});
