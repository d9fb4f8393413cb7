/**
 * A workload producer: one per host. It sends numbered messages to the
 * consumer on every other host at a constant rate, in each mode the run asks
 * for (through a reliable channel, and as plain at-most-once tells).
 *
 * Sends follow the wall clock, not the previous send: slot `k` is due at
 * `t0 + k / rate`, and a producer that was held up (a stalled thread, a slow
 * turn) sends every slot it owes at once, each stamped with the time it was
 * meant to go. Latency is measured from that intended time, so a stall shows
 * as latency instead of silently thinning the load (coordinated omission).
 * A restarted producer resumes at the current slot: the slots it was dead for
 * were never attempted, and the checker counts them as unavailable.
 */
import { defineActor, type ActorRef } from 'troupe';
import { reliableProducer, type ReliableProducer } from 'troupe/reliable';
import { HistoryLog, Kind, wallNow } from './history-log.js';
import { Mode, seal, type Payload } from './payload.js';

export interface ProducerArgs {
  /** This producer's host index (0 is main). */
  host: number;
  /** Each other host's consumers: `ref` ends a reliable channel, `tells` takes the at-most-once tells. */
  targets: { host: number; ref: ActorRef; tells: ActorRef }[];
  /** Messages per second per target and mode. */
  rate: number;
  /** Wall-clock time of slot 0. */
  t0: number;
  /** No slot due after this is sent. */
  endAt: number;
  reliable: boolean;
  atMostOnce: boolean;
  window: number;
  bufferLimit: number;
}

interface Target {
  host: number;
  ref: ActorRef;
  tells: ActorRef;
  channel: ReliableProducer<Payload> | undefined;
  /** Reliable sequence numbers and their slots, oldest first, until confirmed. */
  pendingSeq: number[];
  pendingK: number[];
  head: number;
}

const kTickMs = 5;
const ResendReason = { timeout: 1, nak: 2, 'fresh-consumer': 3 } as const;

type ProducerMessage = { type: 'status' } | { type: 'stop' };

export default defineActor({
  init(args: ProducerArgs, ctx) {
    const log = HistoryLog.attach();
    const inc = (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
    const record: HistoryLog['write'] = (...fields) => log?.write(...fields);
    record(Kind.producerStart, wallNow(), 0, 0, args.host, 0, 0, inc);
    const targets: Target[] = args.targets.map((t) => {
      const target: Target = { host: t.host, ref: t.ref, tells: t.tells, channel: undefined, pendingSeq: [], pendingK: [], head: 0 };
      if (args.reliable) {
        target.channel = reliableProducer<Payload>(ctx, t.ref, {
          channel: 'chaos',
          window: args.window,
          bufferLimit: args.bufferLimit,
          onEvent(event) {
            if (event.type === 'confirmed') {
              let k = -1;
              while (target.head < target.pendingSeq.length && target.pendingSeq[target.head] <= event.upTo) k = target.pendingK[target.head++];
              if (target.head > 4096) {
                target.pendingSeq = target.pendingSeq.slice(target.head);
                target.pendingK = target.pendingK.slice(target.head);
                target.head = 0;
              }
              if (k >= 0) record(Kind.confirm, wallNow(), 0, k, args.host, t.host, Mode.reliable, inc);
            } else if (event.type === 'resent') {
              record(Kind.resend, wallNow(), 0, event.count, args.host, t.host, Mode.reliable, ResendReason[event.reason]);
            }
          },
        });
      }
      return target;
    });
    const state = {
      args,
      inc,
      targets,
      // the current slot: a restarted producer does not back-fill the slots it was dead for
      nextK: Math.max(0, Math.ceil(((wallNow() - args.t0) * args.rate) / 1000)),
      endAt: args.endAt,
      timer: undefined as NodeJS.Timeout | undefined,
    };
    const tick = (): void => {
      const now = wallNow();
      const due = Math.floor(((Math.min(now, state.endAt) - args.t0) * args.rate) / 1000);
      for (let k = state.nextK; k <= due; k++) {
        const intended = args.t0 + (k * 1000) / args.rate;
        for (const target of targets) {
          if (target.channel !== undefined) {
            record(Kind.send, wallNow(), intended, k, args.host, target.host, Mode.reliable, inc);
            try {
              const seq = target.channel.send(seal(k, intended, args.host, Mode.reliable));
              target.pendingSeq.push(seq);
              target.pendingK.push(k);
            } catch (error) {
              record(Kind.fail, wallNow(), intended, k, args.host, target.host, Mode.reliable, failCode(error));
            }
          }
          if (args.atMostOnce) {
            record(Kind.send, wallNow(), intended, k, args.host, target.host, Mode.atMostOnce, inc);
            try {
              ctx.tell(target.tells, seal(k, intended, args.host, Mode.atMostOnce));
            } catch (error) {
              record(Kind.fail, wallNow(), intended, k, args.host, target.host, Mode.atMostOnce, failCode(error));
            }
          }
        }
      }
      if (due >= state.nextK) state.nextK = due + 1;
      if (now >= state.endAt && state.timer !== undefined) {
        clearInterval(state.timer);
        state.timer = undefined;
      }
    };
    state.timer = setInterval(tick, kTickMs);
    return state;
  },
  receive(state, msg: ProducerMessage, ctx) {
    for (const target of state.targets) if (target.channel?.handle(msg)) return;
    if (msg.type === 'status') {
      let unconfirmed = 0;
      for (const target of state.targets) unconfirmed += target.channel?.unconfirmed ?? 0;
      ctx.reply({ unconfirmed, inc: state.inc });
    } else if (msg.type === 'stop') {
      state.endAt = Math.min(state.endAt, wallNow());
    }
  },
  onStop(state) {
    if (state === undefined) return;
    clearInterval(state.timer);
    for (const target of state.targets) target.channel?.close();
  },
});

function failCode(error: unknown): number {
  const code = (error as { code?: unknown })?.code;
  if (code === 'TROUPE_ERR_RELIABLE_BUFFER_FULL') return 1;
  if (code === 'TROUPE_ERR_MAILBOX_FULL') return 2;
  if (code === 'TROUPE_ERR_SYSTEM_STOPPED') return 3;
  return 4;
}
