import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'process-kill-entities',
  description: 'As process-kill, with the ledgers as virtual actors (system.entity): after each SIGKILL their first message activates and recovers them; a third kill lands while the first restart is still starting.',
  process: { ledgers: 64, inflight: 2, activation: 'entity' },
  faults: [
    { at: '30%', repeat: 2, every: '35%', do: { kind: 'kill-process' } },
    { at: '31%', do: { kind: 'kill-process' } },
  ],
});
