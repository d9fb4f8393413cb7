import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'link-delay',
  description: 'Every lane holds each record 20 ms plus up to 30 ms of jitter (in order, as a TCP link would).',
  faults: [{ at: '25%', for: '40%', do: { kind: 'link', from: '*', to: '*', delayMs: 20, jitterMs: 30 } }],
});
