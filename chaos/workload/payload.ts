/**
 * The workload's message: which slot of the schedule (`k`), when it was meant
 * to be sent (`t`, wall-clock ms), from which host (`f`), in which mode (`m`),
 * sealed with a checksum (`x`). The runs turn the runtime's record checksum
 * on, which keeps damaged records from handlers; `x` is the checker's own
 * proof of that (and what catches damage in a run that turns it off).
 */
export const Mode = { atMostOnce: 0, reliable: 1 } as const;
export type ModeCode = (typeof Mode)[keyof typeof Mode];
export type ModeName = 'reliable' | 'at-most-once';
export const modeName = (m: number): ModeName => (m === Mode.reliable ? 'reliable' : 'at-most-once');

export interface Payload {
  k: number;
  t: number;
  f: number;
  m: ModeCode;
  x: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function sum(k: number, t: number, f: number, m: number): number {
  f64[0] = t;
  let h = 0x811c9dc5;
  for (const word of [k | 0, Math.floor(k / 2 ** 32), u32[0], u32[1], f, m]) h = Math.imul(h ^ word, 0x01000193);
  return h >>> 0;
}

export function seal(k: number, t: number, f: number, m: ModeCode): Payload {
  return { k, t, f, m, x: sum(k, t, f, m) };
}

/** The payload if intact, else undefined. */
export function verify(msg: unknown): Payload | undefined {
  if (msg === null || typeof msg !== 'object') return undefined;
  const p = msg as Partial<Payload>;
  if (typeof p.k !== 'number' || typeof p.t !== 'number' || typeof p.f !== 'number' || typeof p.m !== 'number' || typeof p.x !== 'number') return undefined;
  return sum(p.k, p.t, p.f, p.m) === p.x ? (p as Payload) : undefined;
}
