import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'actor-crash-consumer',
  description: 'The consumer on worker 1 throws on its next message; its supervisor restarts it with fresh state.',
  faults: [{ at: '40%', for: '30%', do: { kind: 'crash-actor', actor: 'consumer', host: 1 } }],
});
