/**
 * The shared memory of a system of hosts: a lane for every ordered pair,
 * a block per host (state, doorbell, heartbeat, stats, histogram), the
 * directory, and the root supervisor's restart window when its workers
 * share it. The system allocates it once; workers and their replacements
 * map it from `workerData`.
 */
import { Directory } from '../lane/directory.js';
import { HOST_HISTOGRAM_OFFSET } from '../lane/layout.js';
import { allocateLane } from '../lane/ring.js';
import { histogramCountsLength } from '../metrics/shared-histogram.js';
import { allocateRestartLedger } from '../lane/restart-ledger.js';
import { workersMayRestart } from '../supervision/restart-window.js';
import type { ResolvedSupervisor } from '../supervision/strategy.js';
import type { WorkerBoot } from './boot.js';

export type SharedMemory = Pick<WorkerBoot, 'lanes' | 'hostBlocks' | 'directory' | 'rootRestarts'>;

export function allocateSharedMemory(hostCount: number, laneBytes: number, rootSupervisor: ResolvedSupervisor): SharedMemory {
  const lanes: (SharedArrayBuffer | undefined)[][] = [];
  for (let from = 0; from < hostCount; from++) {
    const row: (SharedArrayBuffer | undefined)[] = [];
    for (let to = 0; to < hostCount; to++) row.push(from === to ? undefined : allocateLane(laneBytes));
    lanes.push(row);
  }
  const blockBytes = HOST_HISTOGRAM_OFFSET + histogramCountsLength() * 4;
  const hostBlocks = Array.from({ length: hostCount }, () => new SharedArrayBuffer(blockBytes));
  const rootRestarts = workersMayRestart(rootSupervisor) ? allocateRestartLedger(rootSupervisor.maxRestarts, rootSupervisor.withinMs) : undefined;
  return { lanes, hostBlocks, directory: Directory.allocate(), rootRestarts };
}
