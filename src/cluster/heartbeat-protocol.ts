/** Messages between the main thread and the cluster's heartbeat thread (heartbeat-thread.ts). */
import type { ResolvedCluster } from './cluster-options.js';
import type { MemberEvent } from './membership.js';

export interface HeartbeatBoot {
  cluster: ResolvedCluster;
  incarnation: number;
}

/** Main → heartbeat thread. */
/** `mute`: stop beating and stop hearing (a partition injected by the chaos hooks), or end that. */
export type HeartbeatCommand = { type: 'leave' } | { type: 'mute'; muted: boolean };

/** Heartbeat thread → main. */
export type HeartbeatReport =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'member'; event: MemberEvent }
  | { type: 'left' };
