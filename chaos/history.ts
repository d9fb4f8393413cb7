/**
 * A run's history: one JSON object per line (history.jsonl). The first line
 * says what ran (scenario, seed, schedule); then faults, runtime events and
 * the workload's operations in the order the main thread learnt of them
 * (each carries its own wall-clock `at`, ms since the epoch).
 */
import type { ModeName } from './workload/payload.js';
import type { ResolvedFault } from './scenario.js';

/** A producer→consumer pair by host name, e.g. "main>1". */
export type PairName = `${string}>${string}`;

export interface RunRecord {
  type: 'run';
  scenario: string;
  description: string;
  seed: number;
  durationMs: number;
  quick: boolean;
  workers: number;
  hosts: string[];
  modes: ModeName[];
  /** Messages per second per pair and mode. */
  rate: number;
  sloMs: number;
  /** Wall-clock time of slot 0 of every producer's schedule; the run's time axis starts here. */
  t0: number;
  endAt: number;
  faults: ResolvedFault[];
  /**
   * Actor ids of the workload, by host name. At-most-once tells go to a
   * consumer of their own (`tells`), so a dead letter that names only its
   * target (a damaged record, a dead worker's mailbox) is known to be one.
   */
  actors: { producers: Record<string, number>; consumers: Record<string, number>; tells?: Record<string, number> };
  replay: string;
  node: string;
}

export type HistoryRecord =
  | RunRecord
  | { type: 'fault'; at: number; action: 'inject' | 'heal'; id: number; label: string; kind: string; lanes?: string[]; error?: string }
  | { type: 'event'; at: number; event: string; host: string; id?: number; reason?: string; code?: string }
  /** A send invoked: written before the message is handed to tell / the reliable channel. */
  | { type: 'send'; at: number; pair: PairName; mode: ModeName; k: number; intended: number; inc: number }
  /** The send threw: the message was not accepted. */
  | { type: 'fail'; at: number; pair: PairName; mode: ModeName; k: number; code: string }
  /** Reliable only: every message of producer incarnation `inc` on this pair up to slot `k` is confirmed by the consumer. */
  | { type: 'confirm'; at: number; pair: PairName; mode: ModeName; k: number; inc: number }
  /** Delivered to the consumer's handler (incarnation `inc` of the consumer). */
  | { type: 'recv'; at: number; pair: PairName; mode: ModeName; k: number; intended: number; inc: number }
  /** A damaged message reached the handler (its checksum failed); `pair` is what it claimed, if anything. */
  | { type: 'corrupt'; at: number; to: string; pair?: PairName; inc: number }
  /** The reliable layer sent messages again. */
  | { type: 'resend'; at: number; pair: PairName; mode: ModeName; count: number; reason: string }
  /** The reliable layer dropped a duplicate (recorded at most once per 10 ms per producer). */
  | { type: 'dedup'; at: number; pair: PairName; mode: ModeName }
  /**
   * A dead letter that may stand for an at-most-once message, recorded on the
   * thread that reported it (main reports a dead worker's mailboxes). `k` and
   * `from` when the event carried an intact workload message; else only the
   * actor ids, and `count` messages (more than 1 for a dead mailbox).
   */
  | { type: 'dead-letter'; at: number; host: string; reason: string; target: number; sender?: number; from?: string; k?: number; count: number }
  | { type: 'producer-start'; at: number; host: string; inc: number }
  | { type: 'consumer-start'; at: number; host: string; inc: number }
  | { type: 'end'; at: number; drained: boolean; drainMs: number; historyDropped: number; historySkipped: number; error?: string };

export const hostName = (index: number): string => (index === 0 ? 'main' : String(index - 1));
export const pairName = (from: number, to: number): PairName => `${hostName(from)}>${hostName(to)}`;
