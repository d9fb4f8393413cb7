import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'actor-crash-producer',
  description: 'The producer on worker 0 throws on its next message and restarts: its unconfirmed messages become indeterminate.',
  faults: [{ at: '40%', for: '30%', do: { kind: 'crash-actor', actor: 'producer', host: 0 } }],
});
