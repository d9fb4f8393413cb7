import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'process-kill',
  description: 'The whole process is SIGKILLed twice mid-stream and restarted on its SQLite journal: every acknowledged append to 16 durable ledgers survives, once, in order.',
  process: { ledgers: 16, inflight: 4, activation: 'spawn' },
  faults: [{ at: '30%', repeat: 2, every: '35%', do: { kind: 'kill-process' } }],
});
