export { Chaos } from './faults.js';
export type { ChaosOptions, LinkFaultOptions } from './faults.js';
