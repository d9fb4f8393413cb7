import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'actor-poison',
  description: 'Three poison messages (the handler always throws on them) told to the consumer on worker 0.',
  faults: [{ at: '30%', for: '10%', repeat: 3, every: '10%', do: { kind: 'poison', host: 0 } }],
});
