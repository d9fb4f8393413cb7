import type { MessagePort } from 'node:worker_threads';
import type { HostOptions } from '../options.js';
import type { ClusterBoot } from './node-refs.js';

/** What a worker thread receives in `workerData`: shared blocks are passed by reference. */
export interface WorkerBoot {
  systemId: string;
  /** The process's origin (actor/process-origin.ts): every thread of a process has the same. */
  origin: string;
  index: number;
  /** lanes[from][to]; undefined where from === to. */
  lanes: (SharedArrayBuffer | undefined)[][];
  hostBlocks: SharedArrayBuffer[];
  directory: SharedArrayBuffer;
  options: HostOptions;
  freeSlots: number[];
  /** Module URLs imported before the host serves (loaders, instrumentation). */
  preload: string[];
  /** The root supervisor's restart window, when workers may admit restarts of top-level actors (restart-window.ts). */
  rootRestarts?: SharedArrayBuffer;
  /** Its port to the journal thread, when the system has a store (transferred, so a boot is used once). */
  journalPort?: MessagePort;
  /** When the system is a cluster node: which node, and the gateway its refs to other nodes go through. */
  cluster?: ClusterBoot;
}

/** What a spare worker gets: enough to import what any host needs, no host yet. */
export interface SpareBoot {
  spare: true;
  preload: string[];
  /** The options its host will have: what it rehearses a takeover with. */
  options: HostOptions;
  /** Whether the system's workers restart top-level actors themselves: the rehearsal takes the same branches. */
  workersRestart: boolean;
}

/** Main → worker control messages (the ref'd control port that keeps a parked worker alive). */
export type ControlMessage =
  | { type: 'adopt'; boot: WorkerBoot }
  /** `consumedTo`: how far the dead host had read the lane from the receiving host. */
  | { type: 'host-down'; host: number; detail: string; consumedTo: number }
  | { type: 'close' }
  | { type: 'chaos'; fault: WorkerFault }
  /** To a spare: actor modules the system runs, imported ahead so a takeover's restarts do not wait for them. */
  | { type: 'warm'; urls: string[] };

/** Faults a worker inflicts on itself when told (troupe/chaos). */
export type WorkerFault =
  | { kind: 'exit'; code: number }
  | { kind: 'stall'; ms: number | undefined }
  | { kind: 'exhaust-heap' };

/** Worker → main. */
export type WorkerReport = { type: 'ready' } | { type: 'spare-ready' } | { type: 'closed' };
