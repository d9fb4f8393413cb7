/**
 * `system.stats()`: read from the shared host blocks and lane headers, never
 * by messaging a worker, so it answers even while every worker is busy.
 */
import type { HostName } from '../actor/context.js';
import { HOST_HISTOGRAM_OFFSET, HOST_STATS_OFFSET, STAT_SLOTS, Stat } from '../lane/layout.js';
import { isParked } from '../lane/host-block.js';
import { laneCapacity, laneCounters } from '../lane/ring.js';
import { histogramCountsLength, readPercentilesUs, type Percentiles } from './shared-histogram.js';

export interface LaneStats {
  from: HostName;
  to: HostName;
  /** Bytes published and not yet consumed. */
  depthBytes: number;
  /** Records published and not yet consumed. */
  depthRecords: number;
  highWaterBytes: number;
  capacityBytes: number;
}

export interface HostStats {
  host: HostName;
  /** Parked on its doorbell: idle, waiting for records. */
  parked: boolean;
  /** When the host last published these figures (epoch ms): at the end of every turn, when parking, and every 250 ms. */
  updatedAt: number;
  actors: number;
  messagesIn: number;
  messagesOut: number;
  messagesInPerSec: number;
  messagesOutPerSec: number;
  deadLetters: number;
  errors: number;
  decodeErrors: number;
  restarts: number;
  backpressure: number;
  /** Records held in this host's overflow because a lane was full. */
  overflowQueued: number;
  /** Payload bytes of those records (each lane's overflow is bounded by `overflowBytes`). */
  overflowBytes: number;
  /** Events this worker dropped because the main thread was not reading them fast enough (bounded event traffic). */
  eventsDropped: number;
  /** Messages waiting in this host's mailboxes. */
  mailboxQueued: number;
  /** Actors whose async handler is awaiting. */
  busyActors: number;
  pendingAsks: number;
  /** Event-loop utilisation of the thread over the last stats interval (0..1); spinning counts as busy. */
  utilisation: number;
  /** Time spent handling messages, ms, since start. */
  busyMs: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Handler time in microseconds, sampled one message in `statsSampleEvery`. */
  processingUs: Percentiles;
  /** Lanes into this host. */
  lanesIn: LaneStats[];
  /** Records this host's injected link faults (troupe/chaos) dropped, duplicated, delayed, corrupted. */
  faults: { dropped: number; duplicated: number; delayed: number; corrupted: number };
}

export interface SystemStats {
  at: number;
  uptimeMs: number;
  workers: number;
  hosts: HostStats[];
  total: {
    actors: number;
    messagesIn: number;
    messagesOut: number;
    messagesInPerSec: number;
    messagesOutPerSec: number;
    deadLetters: number;
    errors: number;
    restarts: number;
    backpressure: number;
    /** Payload bytes held in every host's lane overflows. */
    overflowBytes: number;
    laneDepthBytes: number;
    laneHighWaterBytes: number;
    heapUsedBytes: number;
    rssBytes: number;
    /** Process CPU over the last interval, percent of one core (200 = two cores busy). */
    cpuPercent: number;
    processingUs: Percentiles;
  };
  /** Virtual actors (`system.entity`): refs made, activations running, starting, and waiting for a permit (`entities.maxActivating`). */
  entities: { known: number; active: number; activating: number; queued: number };
  /** On a cluster node: what its link to the other nodes has done, since start. */
  cluster?: ClusterStats;
}

export interface ClusterStats {
  node: string;
  /** Live members besides this node (`up` or `unreachable`). */
  members: number;
  unreachable: number;
  framesSent: number;
  framesReceived: number;
  recordsSent: number;
  recordsReceived: number;
  /** Frames from the network that were not well-formed troupe frames, dropped whole. */
  framesDropped: number;
  /** Bytes held for other nodes that the NATS server has not confirmed (the byte bound's measure). */
  heldBytes: number;
  /** Local stand-ins of remote senders. */
  standIns: number;
}

export interface StatsSources {
  hostBlocks: SharedArrayBuffer[];
  lanes: (SharedArrayBuffer | undefined)[][];
  hostName(index: number): HostName;
}

export class StatsReader {
  readonly #sources: StatsSources;
  readonly #startedAt = Date.now();
  #previous: { at: number; cpu: NodeJS.CpuUsage; counts: { in: number; out: number }[] } | undefined;
  #rates: { in: number; out: number }[] = [];
  #cpuPercent = 0;

  constructor(sources: StatsSources) {
    this.#sources = sources;
  }

  /** Called on a steady tick; rates cover the interval between the last two ticks. */
  sample(): void {
    const at = performance.now();
    const cpu = process.cpuUsage();
    const counts = this.#sources.hostBlocks.map((block) => {
      const stats = new Float64Array(block, HOST_STATS_OFFSET, STAT_SLOTS);
      return { in: stats[Stat.messagesIn], out: stats[Stat.messagesOut] };
    });
    const previous = this.#previous;
    if (previous !== undefined) {
      const seconds = (at - previous.at) / 1000;
      if (seconds > 0) {
        this.#rates = counts.map((c, i) => ({
          in: (c.in - (previous.counts[i]?.in ?? 0)) / seconds,
          out: (c.out - (previous.counts[i]?.out ?? 0)) / seconds,
        }));
        const usedMicros = cpu.user - previous.cpu.user + (cpu.system - previous.cpu.system);
        this.#cpuPercent = (usedMicros / (seconds * 1e6)) * 100;
      }
    }
    this.#previous = { at, cpu, counts };
  }

  read(): Omit<SystemStats, 'entities'> {
    const { hostBlocks, lanes } = this.#sources;
    const uptimeMs = Date.now() - this.#startedAt;
    const histograms: Uint32Array[] = [];
    const hosts: HostStats[] = hostBlocks.map((block, index) => {
      const stats = new Float64Array(block, HOST_STATS_OFFSET, STAT_SLOTS);
      const counts = new Uint32Array(block, HOST_HISTOGRAM_OFFSET, histogramCountsLength());
      histograms.push(counts);
      const lanesIn: LaneStats[] = [];
      for (let from = 0; from < hostBlocks.length; from++) {
        const lane = lanes[from][index];
        if (lane === undefined) continue;
        const counters = laneCounters(lane);
        lanesIn.push({
          from: this.#sources.hostName(from),
          to: this.#sources.hostName(index),
          depthBytes: counters.depthBytes,
          depthRecords: counters.records,
          highWaterBytes: counters.highWaterBytes,
          capacityBytes: laneCapacity(lane),
        });
      }
      const rate = this.#rates[index];
      const fallbackSeconds = Math.max(uptimeMs, 1) / 1000;
      return {
        host: this.#sources.hostName(index),
        parked: isParked(new Int32Array(block, 0, 16)),
        updatedAt: stats[Stat.updatedAt],
        actors: stats[Stat.actors],
        messagesIn: stats[Stat.messagesIn],
        messagesOut: stats[Stat.messagesOut],
        messagesInPerSec: rate?.in ?? stats[Stat.messagesIn] / fallbackSeconds,
        messagesOutPerSec: rate?.out ?? stats[Stat.messagesOut] / fallbackSeconds,
        deadLetters: stats[Stat.deadLetters],
        errors: stats[Stat.errors],
        decodeErrors: stats[Stat.decodeErrors],
        restarts: stats[Stat.restarts],
        backpressure: stats[Stat.backpressure],
        overflowQueued: stats[Stat.overflowQueued],
        overflowBytes: stats[Stat.overflowBytes],
        eventsDropped: stats[Stat.eventsDropped],
        mailboxQueued: stats[Stat.mailboxQueued],
        busyActors: stats[Stat.busyActors],
        pendingAsks: stats[Stat.pendingAsks],
        utilisation: stats[Stat.elu],
        busyMs: stats[Stat.busyMs],
        heapUsedBytes: stats[Stat.heapUsed],
        heapTotalBytes: stats[Stat.heapTotal],
        processingUs: readPercentilesUs([counts]),
        lanesIn,
        faults: {
          dropped: stats[Stat.faultsDropped],
          duplicated: stats[Stat.faultsDuplicated],
          delayed: stats[Stat.faultsDelayed],
          corrupted: stats[Stat.faultsCorrupted],
        },
      };
    });
    const sum = (pick: (h: HostStats) => number): number => hosts.reduce((acc, h) => acc + pick(h), 0);
    const allLanes = hosts.flatMap((h) => h.lanesIn);
    return {
      at: Date.now(),
      uptimeMs,
      workers: hosts.length - 1,
      hosts,
      total: {
        actors: sum((h) => h.actors),
        messagesIn: sum((h) => h.messagesIn),
        messagesOut: sum((h) => h.messagesOut),
        messagesInPerSec: sum((h) => h.messagesInPerSec),
        messagesOutPerSec: sum((h) => h.messagesOutPerSec),
        deadLetters: sum((h) => h.deadLetters),
        errors: sum((h) => h.errors),
        restarts: sum((h) => h.restarts),
        backpressure: sum((h) => h.backpressure),
        overflowBytes: sum((h) => h.overflowBytes),
        laneDepthBytes: allLanes.reduce((acc, l) => acc + l.depthBytes, 0),
        laneHighWaterBytes: allLanes.reduce((acc, l) => Math.max(acc, l.highWaterBytes), 0),
        heapUsedBytes: sum((h) => h.heapUsedBytes),
        rssBytes: process.memoryUsage.rss(),
        cpuPercent: this.#cpuPercent,
        processingUs: readPercentilesUs(histograms),
      },
    };
  }
}
