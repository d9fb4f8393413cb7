/**
 * Fault injection into a running system (`troupe/chaos`): kill, stall or
 * starve workers, crash actors, cut lanes into partitions, and make links
 * lossy, slow, duplicating or corrupting. Every random decision is seeded, so
 * the same seed and the same traffic replay the same faults.
 *
 * @example
 * const chaos = new Chaos(system, { seed: 42 });
 * chaos.partition([['main', 0], [1]]);   // cut both ways between {main, w0} and {w1}
 * chaos.link('main', 1, { dropRate: 0.1, delayMs: 5 });
 * chaos.healAll();
 */
import type { ActorRef } from '../actor/ref.js';
import type { HostName } from '../actor/context.js';
import { InvalidArgumentError } from '../errors.js';
import { LaneFault } from '../lane/layout.js';
import { ActorSystem, kInternals } from '../system/actor-system.js';
import type { SystemInternals } from '../system/internals.js';

export interface LinkFaultOptions {
  /** Probability (0..1) that a record is lost. */
  dropRate?: number;
  /** Probability (0..1) that a record is delivered twice. */
  duplicateRate?: number;
  /** Probability (0..1) that one bit of a record's payload is flipped. */
  corruptRate?: number;
  /** Fixed delay added to every record (in order: a link never reorders). */
  delayMs?: number;
  /** Uniform extra delay, 0..jitterMs. */
  jitterMs?: number;
}

export interface ChaosOptions {
  /** Seed of every random fault decision. @default 1 */
  seed?: number;
}

const kProbabilityKeys = ['dropRate', 'duplicateRate', 'corruptRate'] as const;

export class Chaos {
  readonly #system: ActorSystem;
  readonly #internals: SystemInternals;
  readonly #seed: number;
  /** Lanes currently cut, by "from>to" (host indexes). */
  readonly #cut = new Set<string>();

  constructor(system: ActorSystem, options: ChaosOptions = {}) {
    if (!(system instanceof ActorSystem)) throw new InvalidArgumentError('new Chaos(system) takes an ActorSystem');
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed)) throw new InvalidArgumentError(`chaos seed must be an integer, received ${String(seed)}`);
    this.#system = system;
    this.#internals = system[kInternals];
    this.#seed = seed;
  }

  /** Hosts of the system: 'main' and the worker indexes. */
  get hosts(): HostName[] {
    return Array.from({ length: this.#internals.hostCount }, (_, i) => (i === 0 ? 'main' : i - 1));
  }

  // ------------------------------------------------------------ workers ---

  /** Terminates a worker from outside (`worker.terminate()`); it is replaced like any dead worker. */
  async killWorker(worker: number): Promise<void> {
    this.#workerIndex(worker);
    await this.#internals.terminateWorker(worker);
  }

  /** Makes a worker call `process.exit(code)` from inside. */
  exitWorker(worker: number, code = 1): void {
    this.#internals.inflict(this.#workerIndex(worker), { kind: 'exit', code });
  }

  /** Makes a worker spin synchronously for `ms` (forever by default): its heartbeat stops. */
  stallWorker(worker: number, ms?: number): void {
    this.#internals.inflict(this.#workerIndex(worker), { kind: 'stall', ms });
  }

  /** Makes a worker allocate until its heap limit (`workerResourceLimits`) ends it. */
  exhaustHeap(worker: number): void {
    this.#internals.inflict(this.#workerIndex(worker), { kind: 'exhaust-heap' });
  }

  /** Slow consumer: the host reads at most `recordsPerMs` records a millisecond (0 lifts it). */
  throttle(host: HostName, recordsPerMs: number): void {
    if (!Number.isInteger(recordsPerMs) || recordsPerMs < 0) throw new InvalidArgumentError(`throttle takes a whole number of records per ms, received ${String(recordsPerMs)}`);
    this.#internals.setThrottle(this.#hostIndex(host), recordsPerMs);
  }

  // ------------------------------------------------------------- actors ---

  /** The actor's next message throws (`TROUPE_ERR_CHAOS_FAULT`) instead of being handled. */
  crashActor(ref: ActorRef): boolean {
    if (ref.address !== undefined) throw new InvalidArgumentError(`crashActor(${String(ref)}): the actor runs on another cluster node; inject faults there`);
    return this.#internals.crashActor(ref.id);
  }

  // ---------------------------------------------------------- partitions ---

  /** Cuts the lane `from` → `to`: records written to it are lost until healed. */
  cut(from: HostName, to: HostName): void {
    const a = this.#hostIndex(from);
    const b = this.#hostIndex(to);
    if (a === b) return;
    this.#cut.add(`${a}>${b}`);
    this.#apply(a, b);
  }

  /** Cuts every lane between two groups (both ways, or only `from` → `to` with `oneWay`). */
  split(groupA: HostName[], groupB: HostName[], options: { oneWay?: boolean } = {}): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.cut(a, b);
        if (options.oneWay !== true) this.cut(b, a);
      }
    }
  }

  /** Full partition: hosts in different groups cannot reach each other. Hosts in no group keep all links. */
  partition(groups: HostName[][]): void {
    for (let i = 0; i < groups.length; i++) for (let j = i + 1; j < groups.length; j++) this.split(groups[i], groups[j]);
  }

  /** Cuts one host off from every other. */
  isolate(host: HostName): void {
    this.split([host], this.hosts.filter((h) => h !== host));
  }

  /** Two sides that cannot reach each other, and a bridge host that reaches both. */
  bridge(sideA: HostName[], sideB: HostName[], bridge: HostName): void {
    this.split(
      sideA.filter((h) => h !== bridge),
      sideB.filter((h) => h !== bridge),
    );
  }

  /**
   * Ring of majorities: each host reaches only its neighbours on a ring (with
   * 5 hosts, each sees a majority of 3 including itself, and no two see the same one).
   */
  ringOfMajorities(): void {
    const hosts = this.hosts;
    const n = hosts.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const distance = Math.min((i - j + n) % n, (j - i + n) % n);
        if (i !== j && distance > 1) this.cut(hosts[i], hosts[j]);
      }
    }
  }

  /** Heals one lane, or (without arguments) every cut. Link faults stay. */
  heal(from?: HostName, to?: HostName): void {
    if (from === undefined || to === undefined) {
      const lanes = [...this.#cut];
      this.#cut.clear();
      for (const key of lanes) {
        const [a, b] = key.split('>').map(Number);
        this.#apply(a, b);
      }
      return;
    }
    const a = this.#hostIndex(from);
    const b = this.#hostIndex(to);
    this.#cut.delete(`${a}>${b}`);
    this.#apply(a, b);
  }

  // ---------------------------------------------------------- link faults ---

  /** Makes the lane `from` → `to` lossy, duplicating, corrupting and/or slow; `link(from, to, {})` clears it. */
  link(from: HostName, to: HostName, faults: LinkFaultOptions): void {
    const a = this.#hostIndex(from);
    const b = this.#hostIndex(to);
    for (const key of kProbabilityKeys) {
      const p = faults[key];
      if (p !== undefined && (typeof p !== 'number' || !(p >= 0 && p <= 1))) throw new InvalidArgumentError(`${key} must be a probability from 0 to 1, received ${String(p)}`);
    }
    for (const key of ['delayMs', 'jitterMs'] as const) {
      const ms = faults[key];
      if (ms !== undefined && (typeof ms !== 'number' || !(ms >= 0 && ms <= 600_000))) throw new InvalidArgumentError(`${key} must be from 0 to 600000 ms, received ${String(ms)}`);
    }
    this.#links.set(`${a}>${b}`, faults);
    this.#apply(a, b);
  }

  /** Clears every cut, link fault and throttle. */
  healAll(): void {
    this.heal();
    const links = [...this.#links.keys()];
    this.#links.clear();
    for (const key of links) {
      const [a, b] = key.split('>').map(Number);
      this.#apply(a, b);
    }
    for (let host = 0; host < this.#internals.hostCount; host++) this.#internals.setThrottle(host, 0);
  }

  readonly #links = new Map<string, LinkFaultOptions>();

  /** Writes the lane's whole fault state: its cut, plus its link faults. */
  #apply(from: number, to: number): void {
    const key = `${from}>${to}`;
    const link = this.#links.get(key) ?? {};
    const ppm = (p: number | undefined): number => Math.round((p ?? 0) * 1_000_000);
    let mask = 0;
    if (this.#cut.has(key)) mask |= LaneFault.cut;
    if (ppm(link.dropRate) > 0) mask |= LaneFault.drop;
    if (ppm(link.duplicateRate) > 0) mask |= LaneFault.duplicate;
    if (ppm(link.corruptRate) > 0) mask |= LaneFault.corrupt;
    if ((link.delayMs ?? 0) > 0 || (link.jitterMs ?? 0) > 0) mask |= LaneFault.delay;
    this.#internals.setLaneFaults(from, to, {
      mask,
      dropPpm: ppm(link.dropRate),
      duplicatePpm: ppm(link.duplicateRate),
      corruptPpm: ppm(link.corruptRate),
      delayUs: Math.round((link.delayMs ?? 0) * 1000),
      delayJitterUs: Math.round((link.jitterMs ?? 0) * 1000),
      // one generator per lane, derived from the chaos seed: replayable, and lanes independent
      seed: (Math.imul(this.#seed, 0x9e3779b1) ^ Math.imul(from * 256 + to + 1, 0x85ebca6b)) | 0,
    });
  }

  #hostIndex(host: HostName): number {
    if (host === 'main') return 0;
    if (typeof host !== 'number' || !Number.isInteger(host) || host < 0 || host >= this.#internals.hostCount - 1) {
      throw new InvalidArgumentError(`no host ${String(host)}: expected 'main' or a worker index from 0 to ${this.#internals.hostCount - 2}`);
    }
    return host + 1;
  }

  #workerIndex(worker: number): number {
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.#internals.hostCount - 1) {
      throw new InvalidArgumentError(`no worker ${String(worker)}: expected an index from 0 to ${this.#internals.hostCount - 2}`);
    }
    return worker;
  }

  /** The system this chaos acts on. */
  get system(): ActorSystem {
    return this.#system;
  }
}
