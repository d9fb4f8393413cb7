/**
 * The shared memory of a system of hosts: a lane for every ordered pair,
 * a block per host (state, doorbell, heartbeat, stats, histogram) and the
 * directory. The system allocates it once; workers and their replacements
 * map it from `workerData`.
 */
import { Directory } from '../lane/directory.js';
import { HOST_HISTOGRAM_OFFSET } from '../lane/layout.js';
import { allocateLane } from '../lane/ring.js';
import { histogramCountsLength } from '../metrics/shared-histogram.js';
import type { WorkerBoot } from './boot.js';

export type SharedMemory = Pick<WorkerBoot, 'lanes' | 'hostBlocks' | 'directory'>;

export function allocateSharedMemory(hostCount: number, laneBytes: number): SharedMemory {
  const lanes: (SharedArrayBuffer | undefined)[][] = [];
  for (let from = 0; from < hostCount; from++) {
    const row: (SharedArrayBuffer | undefined)[] = [];
    for (let to = 0; to < hostCount; to++) row.push(from === to ? undefined : allocateLane(laneBytes));
    lanes.push(row);
  }
  const blockBytes = HOST_HISTOGRAM_OFFSET + histogramCountsLength() * 4;
  const hostBlocks = Array.from({ length: hostCount }, () => new SharedArrayBuffer(blockBytes));
  return { lanes, hostBlocks, directory: Directory.allocate() };
}
