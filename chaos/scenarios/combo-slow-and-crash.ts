import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'combo-slow-and-crash',
  description: 'Worker 0 is throttled (slow consumer) and its consumer crashes while the backlog builds.',
  faults: [
    { at: '25%', for: '35%', do: { kind: 'throttle', host: 0, recordsPerMs: 1 } },
    { at: '40%', for: '20%', do: { kind: 'crash-actor', actor: 'consumer', host: 0 } },
  ],
});
