/**
 * A supervisor at work: one per actor that has children, plus the root on
 * the main thread. It keeps its children's specs (as an OTP supervisor keeps
 * child specs; not a temporary child's, which is never restarted), hears how
 * each child exited, decides with SupervisorState, and carries the decision
 * out through its host, one exit at a time.
 */
import type { SpawnSpec } from '../codec/envelope.js';
import { AskTimeoutError } from '../errors.js';
import type { RestartWindow } from './restart-window.js';
import { SupervisorState, type Decision, type ExitKind, type ResolvedSupervisor } from './strategy.js';

export interface SupervisorDriver {
  /** Halts a running child (its children stopped, onStop run, state dropped). */
  halt(childId: number): Promise<void>;
  /** Starts a halted (or lost) child again from its spec, under the same id. */
  restart(childId: number, spec: SpawnSpec): Promise<void>;
  /** Stops a child for good. */
  remove(childId: number, reason: string): Promise<void>;
  /** The supervisor exceeded its restart intensity and has stopped its children: it must fail itself. */
  escalate(reason: string): void;
  /**
   * The supervisor has just decided to give up, before it stops its children
   * (which takes a while) and escalates: for the root, the system is going
   * down from this moment, and must say so.
   */
  givingUp?(): void;
  decided(report: DecisionReport): void;
  /** Monotonic ms, for the intensity window (`monotonicMs`: a shared window compares times of every thread). */
  now(): number;
  /** Epoch ms comparable across threads, for telling stale exits apart. */
  epochNow(): number;
}

export interface DecisionReport {
  child: number;
  exit: ExitKind;
  reason: string;
  decision: Decision;
  delayMs: number;
}

/** How a child's end reaches its supervisor: `stopped` means it was stopped on purpose and only needs forgetting. */
export type ChildExit = ExitKind | 'stopped';

export class Supervisor {
  /**
   * A child's record is its spec, kept to start it again; a temporary child is
   * never restarted, so it keeps only its restart type (OTP drops those specs
   * too): a million temporary children cost one map entry each.
   */
  readonly #state: SupervisorState<SpawnSpec | 'temporary'>;
  readonly #driver: SupervisorDriver;
  /** When this supervisor last ordered each child restarted (epoch ms). */
  readonly #restartedAt = new Map<number, number>();
  readonly #random: () => number;
  #queue: Promise<void> = Promise.resolve();
  #givenUp = false;

  constructor(options: ResolvedSupervisor, driver: SupervisorDriver, window?: RestartWindow, random: () => number = Math.random) {
    this.#state = new SupervisorState<SpawnSpec | 'temporary'>(options, (child) => (child === 'temporary' ? child : (child.r ?? 'permanent')), window);
    this.#driver = driver;
    this.#random = random;
  }

  add(id: number, spec: SpawnSpec): void {
    this.#state.add(id, spec.r === 'temporary' ? 'temporary' : spec);
  }

  forget(id: number): void {
    this.#state.remove(id);
    this.#restartedAt.delete(id);
  }

  has(id: number): boolean {
    return this.#state.children.has(id);
  }

  /** Children in start order. */
  childIds(): number[] {
    return [...this.#state.children.keys()];
  }

  get size(): number {
    return this.#state.children.size;
  }

  /**
   * A child ended at `at` (epoch ms, sub-ms); decisions are taken and carried
   * out one at a time, in the order exits arrive.
   */
  childExited(id: number, exit: ChildExit, reason: string, at: number): Promise<void> {
    return this.#enqueue(() => this.#decide(id, exit, reason, at));
  }

  /**
   * Children that ended together (their worker died), decided in one pass in
   * this order. A worker with thousands of actors makes a root decide
   * thousands of times in a row: one loop, which the JIT optimises while it
   * runs, instead of one queued task each.
   */
  childrenExited(ids: readonly number[], exit: ChildExit, reason: string, at: number): Promise<void> {
    return this.#enqueue(async () => {
      // One child's failure (a restart order that cannot be sent) is not its siblings'.
      let failure: { error: unknown } | undefined;
      for (const id of ids) {
        try {
          const carriedOut = this.#decide(id, exit, reason, at);
          if (carriedOut !== undefined) await carriedOut;
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure !== undefined) throw failure.error;
    });
  }

  #enqueue(work: () => Promise<void> | undefined): Promise<void> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Decides on one exit; returns what the next decision must wait for (group restarts, removals, giving up), if anything. */
  #decide(id: number, exit: ChildExit, reason: string, at: number): Promise<void> | undefined {
    if (exit === 'stopped' || !this.#state.children.has(id)) {
      this.forget(id);
      return undefined;
    }
    if (this.#givenUp) return undefined;
    // An exit of an incarnation this supervisor has restarted since (a group
    // restart took it down too, or its worker died with its siblings): OTP
    // would have consumed that EXIT while terminating the group. Ignore it.
    if (at < (this.#restartedAt.get(id) ?? Number.NEGATIVE_INFINITY)) return undefined;
    const now = this.#driver.now();
    const decision = this.#state.decide(id, exit, now);
    // Before anyone hears of the decision, so a listener already sees its effect.
    if (decision.escalate) this.#driver.givingUp?.();
    const delayMs = decision.restart.length > 0 ? this.#state.backoffMs(id, now, this.#random) : 0;
    this.#driver.decided({ child: id, exit, reason, decision, delayMs });
    if (decision.escalate) return this.#giveUp(id, reason);
    if (decision.remove.length === 0 && isOnly(decision.restart, id)) {
      this.#restartAlone(id, delayMs);
      return undefined;
    }
    return this.#carryOut(id, reason, decision, delayMs);
  }

  /**
   * Only the child that exited: nothing to order it against, so its restart
   * runs without holding up the next decision (a worker's death restarts all
   * the children it ran in one pipelined burst, not one round trip each). A
   * child that fails to start again reports another exit, which comes back here.
   */
  #restartAlone(id: number, delayMs: number): void {
    const restart = (): void => void this.#restart(id);
    if (delayMs > 0) setTimeout(restart, delayMs).unref();
    else restart();
  }

  /** OTP: a supervisor that gives up terminates all its children (in reverse start order), then exits itself. */
  async #giveUp(id: number, reason: string): Promise<void> {
    this.#givenUp = true;
    // A shared window stops workers restarting its children on their own.
    this.#state.window.close();
    for (const child of this.childIds().reverse()) {
      this.forget(child);
      await this.#driver.remove(child, 'supervisor-gave-up').catch(() => undefined);
    }
    this.#driver.escalate(`child ${id} exceeded ${this.#state.options.maxRestarts} restarts in ${this.#state.options.withinMs} ms (${reason})`);
  }

  async #carryOut(id: number, reason: string, decision: Decision, delayMs: number): Promise<void> {
    for (const child of decision.remove) {
      this.forget(child);
      await this.#driver.remove(child, child === id ? reason : 'sibling-temporary').catch(() => undefined);
    }
    if (decision.restart.length === 0) return;
    if (isOnly(decision.restart, id)) {
      this.#restartAlone(id, delayMs);
      return;
    }
    // The group goes down in reverse start order, then comes back in start order.
    const siblings = decision.restart.filter((child) => child !== id);
    // Exits the group's own halting causes are stale from here on.
    const groupAt = this.#driver.epochNow();
    for (const child of decision.restart) this.#restartedAt.set(child, groupAt);
    for (const child of [...siblings].reverse()) await this.#driver.halt(child).catch(() => undefined);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    for (const child of decision.restart) await this.#restart(child);
  }

  #restart(child: number): Promise<void> {
    const spec = this.#state.children.get(child);
    if (spec === undefined || spec === 'temporary') return Promise.resolve();
    this.#restartedAt.set(child, this.#driver.epochNow());
    return this.#driver.restart(child, spec).catch((error: unknown) => {
      // A restart that failed to start reports its own exit, and a worker
      // that died hands its actors over again; but an order (or its answer)
      // lost on the way reports nothing, and would leave the child down for
      // good. No answer within the spawn timeout is one more abnormal exit:
      // judged like any other (intensity, backoff), restarted again (a
      // restart of a child that did start halts it first). Not awaited: this
      // may run inside a decision, and exits are judged one at a time.
      if (error instanceof AskTimeoutError) {
        void this.childExited(child, 'abnormal', `restart-unconfirmed: ${error.message}`, this.#driver.epochNow()).catch(() => undefined);
      }
    });
  }
}

const isOnly = (ids: readonly number[], id: number): boolean => ids.length === 1 && ids[0] === id;
