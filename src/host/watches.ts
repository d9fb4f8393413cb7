/**
 * Watches (OTP monitors): an actor watches another and gets a `down`
 * message when it ends. Kept on both sides: the target's cell lists its
 * watchers (to tell them directly), and the watcher's host indexes what it
 * watches (so a target whose list died with its worker can be announced to
 * every host).
 */
import type { Cell } from '../actor/cell.js';
import type { ActorRef } from '../actor/ref.js';
import { Kind } from '../codec/envelope.js';
import type { ActorId, Directory } from '../lane/directory.js';
import type { HostOptions } from '../options.js';
import type { Outbound } from './outbound.js';
import type { PendingTable } from './pending.js';

/** What watches need of their host. */
export interface WatchesHost {
  readonly index: number;
  readonly hostCount: number;
  readonly options: HostOptions;
  readonly directory: Directory;
  readonly cells: Map<number, Cell>;
  readonly pending: PendingTable;
  readonly out: Outbound;
  readonly runner: { placeholder(id: ActorId): Cell };
  refFor(id: number, name: string | undefined): ActorRef;
  /** The host's message path (tell, unbounded: a down message is never refused for backpressure). */
  send(kind: number, target: number, sender: number, corr: number, trace: number, msg: unknown, bounded: boolean): boolean;
}

export class Watches {
  readonly #host: WatchesHost;
  /** What actors of this host watch: target id → watcher ids, each with its count of watches. */
  readonly #watching = new Map<number, Map<number, number>>();

  constructor(host: WatchesHost) {
    this.#host = host;
  }

  watch(watcher: number, target: number): Promise<void> {
    const host = this.#host;
    // Counted: a watch made after the target died (a noproc at once) must not
    // swallow the down an earlier watch is still owed.
    let watchers = this.#watching.get(target);
    if (watchers === undefined) this.#watching.set(target, (watchers = new Map()));
    watchers.set(watcher, (watchers.get(watcher) ?? 0) + 1);
    const watcherCell = host.cells.get(watcher);
    if (watcherCell !== undefined) (watcherCell.watching ??= new Set()).add(target);
    const where = host.directory.hostOf(target);
    if (where < 0) {
      this.onGone(watcher, target as ActorId, undefined, 'noproc', true);
      return Promise.resolve();
    }
    if (where === host.index) {
      const cell = host.cells.get(target) ?? host.runner.placeholder(target as ActorId);
      (cell.watchers ??= new Set()).add(watcher);
      return Promise.resolve();
    }
    // Acknowledged once registered where the target runs: from then on its end
    // (whoever causes it) reaches the watcher with the real reason.
    const { corr, promise } = host.pending.open(where, `watch #${target}`, host.options.askTimeoutMs);
    host.out.sendEmpty(where, Kind.watch, target, watcher, corr, false);
    return promise.then(
      () => undefined,
      () => undefined,
    );
  }

  unwatch(watcher: number, target: number): void {
    const host = this.#host;
    const watchers = this.#watching.get(target);
    watchers?.delete(watcher);
    if (watchers?.size === 0) this.#watching.delete(target);
    host.cells.get(watcher)?.watching?.delete(target);
    const where = host.directory.hostOf(target);
    if (where === host.index) host.cells.get(target)?.watchers?.delete(watcher);
    else if (where >= 0) host.out.sendEmpty(where, Kind.unwatch, target, watcher, 0, false);
  }

  /** A watch record from another host: false if the target does not run here (the watcher is owed a noproc). */
  addWatcher(target: number, watcher: number): boolean {
    const host = this.#host;
    const cell = host.cells.get(target);
    if (host.directory.hostOf(target) !== host.index || cell?.status === 'stopped') return false;
    ((cell ?? host.runner.placeholder(target as ActorId)).watchers ??= new Set()).add(watcher);
    return true;
  }

  removeWatcher(target: number, watcher: number): void {
    this.#host.cells.get(target)?.watchers?.delete(watcher);
  }

  /** Tells watchers that `id` ended for good: each one directly, or every host when the list is unknown. */
  announceGone(id: number, name: string | undefined, reason: string, watchers: Set<number> | undefined): void {
    const host = this.#host;
    const notice = name === undefined ? { r: reason } : { r: reason, n: name };
    if (watchers === undefined) {
      for (let to = 0; to < host.hostCount; to++) this.sendGone(to, 0, id, notice);
      return;
    }
    for (const watcher of watchers) {
      const where = host.directory.hostOf(watcher);
      if (where >= 0) this.sendGone(where, watcher, id, notice);
    }
  }

  sendGone(to: number, watcher: number, id: number, notice: { r: string; n?: string }): void {
    if (to === this.#host.index) {
      this.onGone(watcher, id as ActorId, notice.n, notice.r);
      return;
    }
    this.#host.out.sendValue(to, Kind.gone, watcher, id, 0, notice);
  }

  /**
   * Delivers the down message for `id` to `watcher` (0: every local watcher).
   * A notice from the target's side settles all of a watcher's watches of it;
   * the immediate noproc of one late watch settles only that one (`one`).
   */
  onGone(watcher: number, id: ActorId, name: string | undefined, reason: string, one = false): void {
    const host = this.#host;
    const watchers = this.#watching.get(id);
    if (watchers === undefined) return;
    const targets = watcher === 0 ? [...watchers.keys()] : watchers.has(watcher) ? [watcher] : [];
    for (const w of targets) {
      const left = one ? watchers.get(w)! - 1 : 0;
      if (left > 0) watchers.set(w, left);
      else {
        watchers.delete(w);
        host.cells.get(w)?.watching?.delete(id);
      }
      const down = { type: 'down', ref: host.refFor(id, name), reason };
      host.send(Kind.tell, w, id, 0, 0, down, false);
    }
    if (watchers.size === 0) this.#watching.delete(id);
  }
}
