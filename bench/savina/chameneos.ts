/**
 * Savina Chameneos (chameneos-redux): chameneos ask a mall for meetings; the
 * mall pairs two, the pair swap colours (complement), and both ask again.
 * After M meetings every request is answered with `exit`; each chameneo then
 * reports how many meetings it had, and the mall answers the driver.
 * Per meeting: two requests, one `meet`, one `change` (4 messages).
 */
import { defineActor, type ActorRef, type ReplyHandle } from 'troupe';

export type MallMessage =
  | { type: 'run'; chameneos: ActorRef[]; meetings: number }
  | { type: 'meet'; color: number }
  | { type: 'count'; meetings: number };

export type ChameneoMessage = { type: 'go' } | { type: 'meet'; color: number; partner: ActorRef } | { type: 'change'; color: number } | { type: 'exit' };

export interface ChameneosReport {
  /** From the `go`s to the last count, timed on the mall's thread. */
  ms: number;
  meetings: number;
  /** Sum of every chameneo's meetings: twice `meetings` when nothing was lost. */
  chameneoMeetings: number;
}

/** Blue 0, red 1, yellow 2: two different colours make the third. */
const complement = (a: number, b: number): number => (a === b ? a : 3 - a - b);
const kGo = Object.freeze({ type: 'go' as const });
const kExit = Object.freeze({ type: 'exit' as const });

export const mall = defineActor({
  init: () => ({
    waiting: undefined as ActorRef | undefined,
    waitingColor: 0,
    meetings: 0,
    limit: 0,
    expected: 0,
    exited: 0,
    total: 0,
    startedAt: 0,
    done: undefined as ReplyHandle<ChameneosReport> | undefined,
  }),
  receive(state, msg: MallMessage, ctx) {
    switch (msg.type) {
      case 'meet': {
        if (state.meetings >= state.limit) {
          ctx.reply(kExit);
          return;
        }
        if (state.waiting === undefined) {
          state.waiting = ctx.sender;
          state.waitingColor = msg.color;
          return;
        }
        state.meetings++;
        ctx.tell(state.waiting, { type: 'meet', color: msg.color, partner: ctx.sender });
        state.waiting = undefined;
        return;
      }
      case 'count':
        state.total += msg.meetings;
        if (++state.exited === state.expected) {
          state.done?.send({ ms: performance.now() - state.startedAt, meetings: state.meetings, chameneoMeetings: state.total });
          state.done = undefined;
        }
        return;
      case 'run':
        Object.assign(state, { waiting: undefined, meetings: 0, limit: msg.meetings, expected: msg.chameneos.length, exited: 0, total: 0, startedAt: performance.now() });
        state.done = ctx.deferReply<ChameneosReport>();
        for (const chameneo of msg.chameneos) ctx.tell(chameneo, kGo);
    }
  },
});

export const chameneo = defineActor({
  init: (args: { color: number }) => ({ color: args.color, initial: args.color, meetings: 0, mall: undefined as ActorRef | undefined }),
  receive(state, msg: ChameneoMessage, ctx) {
    switch (msg.type) {
      case 'meet':
        state.color = complement(state.color, msg.color);
        state.meetings++;
        ctx.tell(msg.partner, { type: 'change', color: state.color });
        ctx.tell(state.mall!, { type: 'meet', color: state.color });
        return;
      case 'change':
        state.color = msg.color;
        state.meetings++;
        ctx.tell(state.mall!, { type: 'meet', color: state.color });
        return;
      case 'go':
        state.mall = ctx.sender;
        state.meetings = 0;
        state.color = state.initial;
        ctx.tell(state.mall!, { type: 'meet', color: state.color });
        return;
      case 'exit':
        ctx.reply({ type: 'count', meetings: state.meetings });
    }
  },
});
