/** Messages between the main thread and the cluster's heartbeat thread (heartbeat-thread.ts). */
import type { ResolvedCluster } from './cluster-options.js';
import type { MemberEvent } from './membership.js';

export interface HeartbeatBoot {
  cluster: ResolvedCluster;
  incarnation: number;
}

/** Main → heartbeat thread. */
export type HeartbeatCommand = { type: 'leave' };

/** Heartbeat thread → main. */
export type HeartbeatReport =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'member'; event: MemberEvent }
  | { type: 'left' };
