import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'link-flaky',
  description: 'All link faults at once on every lane: 5% dropped, 5% duplicated, 1% corrupted, 5 ms + up to 5 ms delay.',
  faults: [{ at: '25%', for: '40%', do: { kind: 'link', from: '*', to: '*', dropRate: 0.05, duplicateRate: 0.05, corruptRate: 0.01, delayMs: 5, jitterMs: 5 } }],
});
