import { durableCounter } from './durable-writer.js';

/** The durable counter without snapshots: recovery replays every event. */
export default durableCounter(undefined);
