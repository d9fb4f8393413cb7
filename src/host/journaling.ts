/**
 * Durable actors on a host: an actor whose definition has `persistence` is
 * recovered from its journal when it starts (newest snapshot, then the events
 * after it, each upcast from the version that wrote it) and appends through
 * `ctx.persist`, which applies the events to its state at once and resolves
 * when the journal thread reports them durable. A failed append crashes the
 * actor before the handler sees the rejection, so no state that the journal
 * does not hold outlives it: its supervisor restarts it from the journal.
 */
import type { Logger } from 'pino';
import type { Cell } from '../actor/cell.js';
import { kRestoreSnapshot, type PersistenceOptions } from '../actor/define-actor.js';
import type { SpawnSpec } from '../codec/envelope.js';
import type { MessageLimits } from '../codec/validate.js';
import { ActorStoppedError, InvalidArgumentError, PersistenceCorruptError, PersistenceNotConfiguredError, PersistenceVersionError } from '../errors.js';
import type { JournalClient } from '../persistence/journal-client.js';
import type { StoredRecord } from '../persistence/journal-protocol.js';
import { decodeRecord, encodeRecord, kMaxRecordBytes, type EncodedRecord } from '../persistence/record-codec.js';
import { messageLimits } from '../codec/validate.js';
import type { HostOptions } from '../options.js';

/** What durable actors need of their host. */
export interface JournalingHost {
  readonly options: HostOptions;
  readonly journal: JournalClient | undefined;
  readonly stopping: { crashed(cell: Cell, error: unknown): void };
  readonly log: Logger;
}

/** One durable actor's place in its journal. */
interface Durable {
  pid: string;
  /** The last sequence number taken (written, or on its way). */
  seq: number;
  /** Events since the last snapshot taken. */
  sinceSnapshot: number;
  incarnation: number;
}

/** Recoveries one host runs at once: a flood of activations waits here, not in memory or the store. */
export const kRecoveryPermits = 64;

export class Journaling {
  readonly #host: JournalingHost;
  readonly #limits: MessageLimits;
  readonly #actors = new Map<number, Durable>();
  /** Per journal, settling when its appends sent so far have: a restart reads only after them. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #permits = kRecoveryPermits;
  readonly #waitingForPermit: (() => void)[] = [];

  constructor(host: JournalingHost) {
    this.#host = host;
    this.#limits = messageLimits(host.options.maxMessageDepth, host.options.maxMessageNodes, kMaxRecordBytes);
  }

  persistenceIdOf(id: number): string | undefined {
    return this.#actors.get(id)?.pid;
  }

  /**
   * The state of a durable actor starting (or restarting) from its journal,
   * built over `initial` (what init returned). Throws typed: no store,
   * corrupt record, record from a newer version, store fault.
   */
  async recover(cell: Cell, spec: SpawnSpec, persistence: PersistenceOptions<any, any>, initial: unknown): Promise<unknown> {
    const journal = this.#host.journal;
    if (journal === undefined) throw new PersistenceNotConfiguredError(`actor ${cell.label} (persistence in its definition)`);
    const pid = spec.i ?? spec.n;
    if (pid === undefined) throw new InvalidArgumentError(`actor ${cell.label} is persistent: spawn it with a name or a persistenceId`);
    this.#actors.delete(cell.id);
    await this.#inFlight.get(pid);
    await this.#acquire();
    let loaded;
    try {
      loaded = await journal.load(pid);
    } finally {
      this.#release();
    }
    const version = persistence.version ?? 1;
    let state = initial;
    let seq = 0;
    if (loaded.snapshot !== undefined) {
      state = this.#read(pid, 'snapshot', loaded.snapshot, persistence, version);
      const restore = persistence[kRestoreSnapshot];
      if (restore !== undefined) state = restore(state);
      seq = loaded.snapshot.seq;
    }
    const fromSnapshot = seq;
    for (const stored of loaded.events) {
      if (stored.seq !== seq + 1) throw new PersistenceCorruptError(pid, seq + 1, 'event', `missing: the journal goes on at ${stored.seq}`);
      const event = this.#read(pid, 'event', stored, persistence, version);
      state = applied(persistence, state, event);
      seq = stored.seq;
    }
    this.#actors.set(cell.id, { pid, seq, sinceSnapshot: seq - fromSnapshot, incarnation: cell.incarnation });
    return state;
  }

  #read(pid: string, what: 'event' | 'snapshot', stored: StoredRecord, persistence: PersistenceOptions<any, any>, version: number): unknown {
    if (stored.version > version) throw new PersistenceVersionError(pid, stored.seq, what, stored.version, version);
    const value = decodeRecord(pid, what, stored);
    if (stored.version === version || persistence.upcast === undefined) return value;
    return persistence.upcast(value, stored.version, what);
  }

  /** ctx.persist: applies, sends, and resolves once durable. */
  persist(cell: Cell, input: unknown): Promise<void> {
    const durable = this.#actors.get(cell.id);
    const persistence = cell.def?.persistence;
    if (durable === undefined || persistence === undefined) {
      return Promise.reject(new InvalidArgumentError(`ctx.persist(): actor ${cell.label} is not persistent (its definition has no persistence)`));
    }
    if (cell.status !== 'running' || durable.incarnation !== cell.incarnation) {
      return Promise.reject(new ActorStoppedError(cell.label, 'its incarnation ended before it persisted'));
    }
    const events = Array.isArray(input) ? input : [input];
    if (events.length === 0) return Promise.resolve();
    let encoded: EncodedRecord[];
    try {
      encoded = events.map((event) => encodeRecord(event, this.#limits));
    } catch (error) {
      // Nothing applied, nothing sent: the handler decides.
      return Promise.reject(error);
    }
    try {
      let state = cell.state;
      for (const event of events) state = applied(persistence, state, event);
      cell.state = state;
    } catch (error) {
      // Half applied: the state is no longer the journal's.
      this.#host.stopping.crashed(cell, error);
      return Promise.reject(error);
    }
    const firstSeq = durable.seq + 1;
    durable.seq += events.length;
    durable.sinceSnapshot += events.length;
    let snapshot;
    const every = persistence.snapshotEvery;
    if (every !== undefined && durable.sinceSnapshot >= every) {
      try {
        const state = encodeRecord(cell.state, this.#limits);
        const retention = persistence.retention === undefined ? undefined : { keepSnapshots: persistence.retention.keepSnapshots, deleteEvents: persistence.retention.deleteEvents ?? false };
        snapshot = { ...state, seq: durable.seq, retention };
        durable.sinceSnapshot = 0;
      } catch (error) {
        // A state that cannot be stored costs only the snapshot: the events replay, and the next persist tries again.
        this.#host.log.warn({ actor: cell.id, persistenceId: durable.pid, err: error }, 'snapshot skipped: the state cannot be stored');
      }
    }
    const appended = this.#host.journal!.append({ pid: durable.pid, firstSeq, version: persistence.version ?? 1, events: encoded, prunes: persistence.retention?.deleteEvents === true, snapshot });
    const settled = appended.then(noop, noop);
    this.#inFlight.set(durable.pid, settled);
    void settled.then(() => {
      if (this.#inFlight.get(durable.pid) === settled) this.#inFlight.delete(durable.pid);
    });
    const incarnation = cell.incarnation;
    return appended.catch((error: unknown) => {
      // Crashed before the handler resumes: the events stay applied only in a state about to be dropped.
      if (cell.incarnation === incarnation && this.#actors.get(cell.id) === durable && cell.status === 'running') this.#host.stopping.crashed(cell, error);
      throw error;
    });
  }

  /** The actor ended (stopped, or halted for a restart, which recovers again). */
  forget(id: number): void {
    this.#actors.delete(id);
  }

  #acquire(): Promise<void> {
    if (this.#permits > 0) {
      this.#permits--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waitingForPermit.push(resolve));
  }

  #release(): void {
    const next = this.#waitingForPermit.shift();
    if (next !== undefined) next();
    else this.#permits++;
  }
}

function applied(persistence: PersistenceOptions<any, any>, state: unknown, event: unknown): unknown {
  const next = persistence.apply(state, event);
  return next === undefined ? state : next;
}

function noop(): void {}
