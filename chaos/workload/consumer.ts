/**
 * A workload consumer: two per host, one the end of a reliable channel from
 * every other host's producer, the other the target of their at-most-once
 * tells (apart, so a dead letter naming only its target says which mode it
 * was). It writes every receipt to the history with this incarnation's id; a
 * message whose checksum fails (a corrupted at-most-once record that still
 * decoded) is written as corrupt. `{ poison: true }` always throws (the
 * poison-message fault).
 */
import { defineActor } from 'troupe';
import { reliable } from 'troupe/reliable';
import { HistoryLog, Kind, wallNow } from './history-log.js';
import { Mode, verify } from './payload.js';

export interface ConsumerArgs {
  host: number;
}

export class PoisonError extends Error {
  readonly code = 'CHAOS_POISON';
}

interface Incarnation {
  host: number;
  inc: number;
  log: HistoryLog | undefined;
  /** Producer actor id → its host, learnt from the payloads. */
  producers: Map<number, number>;
  /** When a de-duplication was last recorded, per producer: one record per 10 ms shows it happening. */
  dedupAt: Map<number, number>;
}

/** By actor id, for the channel's event hook (which sees the context, not the state). */
const incarnations = new Map<number, Incarnation>();

export default defineActor(
  reliable(
    {
      init(args: ConsumerArgs, ctx): Incarnation {
        const state: Incarnation = {
          host: args.host,
          inc: (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0,
          // attached per incarnation: each run publishes a new log
          log: HistoryLog.attach(),
          producers: new Map(),
          dedupAt: new Map(),
        };
        incarnations.set(ctx.self.id, state);
        state.log?.write(Kind.consumerStart, wallNow(), 0, 0, 0, args.host, 0, state.inc);
        return state;
      },
      receive(state, msg: unknown, ctx) {
        if (msg !== null && typeof msg === 'object' && (msg as { poison?: unknown }).poison === true) throw new PoisonError('poison message');
        const payload = verify(msg);
        if (payload === undefined) {
          // It reached the handler damaged; the sender it claims may be wrong too.
          const claimed = (msg as { f?: unknown } | null)?.f;
          state.log?.write(Kind.corrupt, wallNow(), 0, 0, typeof claimed === 'number' ? claimed : -1, state.host, -1, state.inc);
          return;
        }
        state.log?.write(Kind.recv, wallNow(), payload.t, payload.k, payload.f, state.host, payload.m, state.inc);
        const sender = ctx.sender;
        if (sender !== undefined && payload.m === Mode.reliable) state.producers.set(sender.id, payload.f);
      },
    },
    {
      onEvent(event, ctx) {
        // the reliable layer dropping a duplicate is how a duplicating link shows
        if (event.type !== 'duplicate') return;
        const state = incarnations.get(ctx.self.id);
        const host = state?.producers.get(event.producer);
        if (state === undefined || host === undefined) return;
        const now = wallNow();
        if (now - (state.dedupAt.get(event.producer) ?? 0) < 10) return;
        state.dedupAt.set(event.producer, now);
        state.log?.write(Kind.dedup, now, 0, event.seq, host, state.host, Mode.reliable, state.inc);
      },
    },
  ),
);
