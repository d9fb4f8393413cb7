/**
 * What a supervisor decides when one of its children exits: OTP's rules,
 * as plain logic with the clock passed in (no threads, no records), so every
 * rule is tested on its own.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ResolvedSupervisor } from '../options.js';
import { LocalRestartWindow, type RestartWindow } from './restart-window.js';

// The supervisor flags (their shape, defaults and validation) are options,
// validated where every other option is, in options.ts: the root supervisor
// is a system option, and options.ts sits below every layer. Re-exported here
// because this is where a reader of supervision looks for them.
export {
  kRootSupervisorDefaults,
  kSupervisorDefaults,
  resolveSupervisor,
  type BackoffOptions,
  type ResolvedSupervisor,
  type Strategy,
  type SupervisorOptions,
} from '../options.js';

export type RestartType = 'permanent' | 'transient' | 'temporary';
export const kRestartTypes = new Set<RestartType>(['permanent', 'transient', 'temporary']);

/** OTP: permanent restarts after any exit, transient after an abnormal one, temporary never. */
export function isRestartable(restart: RestartType, exit: ExitKind): boolean {
  return restart === 'permanent' || (restart === 'transient' && exit === 'abnormal');
}

export function resolveRestartType(restart: unknown): RestartType {
  if (restart === undefined) return 'permanent';
  if (!kRestartTypes.has(restart as RestartType)) {
    throw new InvalidArgumentError(`spawn option "restart" must be 'permanent', 'transient' or 'temporary', received ${String(restart)}`);
  }
  return restart as RestartType;
}

/**
 * How a child ended. `normal`: it stopped itself. `abnormal`: it crashed,
 * its init failed, its worker died, or it escalated. (A child its supervisor
 * stopped is simply removed and never reaches a decision.)
 */
export type ExitKind = 'normal' | 'abnormal';

export interface Decision {
  /** Children to stop for good (temporary ones caught in a group restart, and the exited one when not restarted). */
  remove: number[];
  /** Children to restart, in start order (the group is halted in reverse order first). */
  restart: number[];
  /** The supervisor exceeded its intensity: stop every child and fail itself. */
  escalate: boolean;
}

/**
 * Restart bookkeeping of one supervisor: its children in start order and the
 * times of its recent restarts (OTP's intensity window).
 */
export class SupervisorState<Child = RestartType> {
  readonly options: ResolvedSupervisor;
  /**
   * Each child's record, its restart type read by `restartOf`; insertion order
   * is start order. One map entry per child, whatever the record: a root may
   * supervise a million.
   */
  readonly children = new Map<number, Child>();
  readonly #restartOf: (child: Child) => RestartType;
  /** Its recent restarts; the root's may be shared with the workers, which then admit restarts too. */
  readonly window: RestartWindow;
  /** Consecutive restarts per child, for backoff; cleared when the window passes without one. */
  readonly #streak = new Map<number, { count: number; at: number }>();

  constructor(options: ResolvedSupervisor, restartOf: (child: Child) => RestartType, window?: RestartWindow) {
    this.options = options;
    this.#restartOf = restartOf;
    this.window = window ?? new LocalRestartWindow(options.maxRestarts, options.withinMs);
  }

  add(id: number, child: Child): void {
    this.children.set(id, child);
  }

  remove(id: number): void {
    this.children.delete(id);
    this.#streak.delete(id);
  }

  /** OTP's rules for a child that exited, counted against the intensity at `now`. */
  decide(childId: number, kind: ExitKind, now: number): Decision {
    const record = this.children.get(childId);
    if (record === undefined) return { remove: [], restart: [], escalate: false };
    const child = this.#restartOf(record);
    if (!isRestartable(child, kind)) {
      // A temporary child, or a transient one that finished: removed, and it
      // causes no restart of anyone, whatever the strategy.
      return { remove: [childId], restart: [], escalate: false };
    }
    if (!this.window.admit(now)) return { remove: [], restart: [], escalate: true };
    // one_for_one needs no sibling list: a worker's death makes a root with
    // thousands of children decide once per child, and a copy each time was
    // quadratic.
    if (this.options.strategy === 'one_for_one') return { remove: [], restart: [childId], escalate: false };
    const ids = [...this.children.keys()];
    const group = this.options.strategy === 'one_for_all' ? ids : ids.slice(ids.indexOf(childId));
    const remove: number[] = [];
    const restart: number[] = [];
    for (const id of group) {
      // A temporary sibling is not restarted, not even when the group is.
      if (id !== childId && this.#restartOf(this.children.get(id)!) === 'temporary') remove.push(id);
      else restart.push(id);
    }
    return { remove, restart, escalate: false };
  }

  /** Delay before restarting `childId` now, from its streak of restarts (0 without backoff). */
  backoffMs(childId: number, now: number, random: () => number): number {
    const backoff = this.options.backoff;
    const previous = this.#streak.get(childId);
    const count = previous !== undefined && now - previous.at < this.options.withinMs + (backoff?.maxMs ?? 0) ? previous.count + 1 : 1;
    this.#streak.set(childId, { count, at: now });
    if (backoff === undefined) return 0;
    const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** (count - 1));
    return Math.round(base * (1 + backoff.jitter * random()));
  }
}
