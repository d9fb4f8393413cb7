import { defineActor } from 'troupe';

export interface WorkRequest {
  rounds: number;
  text: string;
}

/**
 * The work of one HTTP request in `npm run load`: FNV-1a over `text`, `rounds`
 * times. Pure CPU, no allocation; the plain server calls the same function.
 */
export function work({ rounds, text }: WorkRequest): { hash: number; rounds: number } {
  let hash = 0x811c9dc5;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
  }
  return { hash: hash >>> 0, rounds };
}

/** Does the work on its worker thread and replies with the result. */
export default defineActor({
  receive(_state, msg: WorkRequest, ctx) {
    ctx.reply(work(msg));
  },
});
