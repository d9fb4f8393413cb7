import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'baseline',
  description: 'No fault: the control run every other scenario is read against.',
  faults: [],
});
