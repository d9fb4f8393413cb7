/**
 * Prometheus exposition of a system's figures through prom-client.
 *
 * Everything per host comes from `system.stats()`, which reads the shared
 * stats blocks (the workers' figures are already there, no message needed),
 * once per scrape. Worker lifecycle counts come from `system.events`. Labels
 * are `host` (`main`, `0`, `1`, ...) and, for lanes, `from`/`to`; never an
 * actor id, whose cardinality is unbounded. A replaced worker's counters
 * restart at zero, which Prometheus' `rate()` and `increase()` read as a
 * counter reset.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HostStats, LaneStats, SystemStats } from '../metrics/stats.js';
import type { ActorSystem } from '../system/actor-system.js';

export interface MetricsOptions {
  /** Where to register. @default a new `Registry` */
  registry?: Registry;
  /** Also register prom-client's process and Node metrics of the main thread (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, `nodejs_gc_duration_seconds`...). @default true */
  defaultMetrics?: boolean;
  /** Prefix of every troupe metric. @default 'troupe_' */
  prefix?: string;
}

type HostPick = (host: HostStats) => number;
type LanePick = (lane: LaneStats) => number;

/** Counters read from the per-host stats. */
const kHostCounters: readonly [string, string, HostPick][] = [
  ['messages_received_total', 'Messages delivered to actors on the host.', (h) => h.messagesIn],
  ['messages_sent_total', 'Messages sent from the host.', (h) => h.messagesOut],
  ['dead_letters_total', 'Undeliverable messages (stopped or unknown target, crashed handler, full mailbox, undecodable record).', (h) => h.deadLetters],
  ['actor_errors_total', 'Handler failures (thrown or rejected) on the host.', (h) => h.errors],
  ['decode_errors_total', 'Records refused by validation or decoding.', (h) => h.decodeErrors],
  ['actor_restarts_total', 'Actor restarts on the host.', (h) => h.restarts],
  ['backpressure_events_total', 'Sends that found the target lane full and were held in overflow.', (h) => h.backpressure],
];

const kHostGauges: readonly [string, string, HostPick][] = [
  ['actors', 'Live actors on the host.', (h) => h.actors],
  ['mailbox_messages', 'Messages waiting in the host\'s mailboxes.', (h) => h.mailboxQueued],
  ['overflow_records', 'Records held in the host\'s overflow because a lane was full.', (h) => h.overflowQueued],
  ['busy_actors', 'Actors whose async handler is awaiting.', (h) => h.busyActors],
  ['pending_asks', 'Asks from the host awaiting a reply.', (h) => h.pendingAsks],
  ['event_loop_utilization_ratio', 'Event-loop utilisation of the host thread over the last stats interval (0 to 1).', (h) => h.utilisation],
  ['heap_used_bytes', 'V8 heap used by the host thread.', (h) => h.heapUsedBytes],
  ['heap_total_bytes', 'V8 heap size of the host thread.', (h) => h.heapTotalBytes],
  ['host_parked', '1 while the host thread is parked waiting for work.', (h) => (h.parked ? 1 : 0)],
];

const kLaneGauges: readonly [string, string, LanePick][] = [
  ['lane_depth_bytes', 'Bytes published to the lane and not yet consumed.', (l) => l.depthBytes],
  ['lane_depth_records', 'Records published to the lane and not yet consumed.', (l) => l.depthRecords],
  ['lane_high_water_bytes', 'Deepest the lane has been.', (l) => l.highWaterBytes],
  ['lane_capacity_bytes', 'Size of the lane\'s ring.', (l) => l.capacityBytes],
];

/** Seconds; from sub-millisecond loopback asks to a multi-second timeout. */
const kDurationBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const kMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * A prom-client registry fed by one actor system. Serve `await
 * metrics.scrape()` with `metrics.contentType`, or let the gateway do it on
 * `GET /metrics`.
 *
 * @example
 * const metrics = createMetrics(system);
 * http.createServer(async (_req, res) => res.setHeader('content-type', metrics.contentType).end(await metrics.scrape()));
 */
export class TroupeMetrics {
  readonly registry: Registry;
  readonly #system: ActorSystem;
  readonly #offs: (() => void)[] = [];
  readonly #http: Histogram<'method' | 'route' | 'code'>;
  readonly #ask: Histogram<'route' | 'outcome'>;
  #snapshot: SystemStats | undefined;

  constructor(system: ActorSystem, options: MetricsOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('metrics options must be an object');
    const prefix = options.prefix ?? 'troupe_';
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new TypeError(`metrics option "prefix" must be a valid metric name prefix, received ${JSON.stringify(prefix)}`);
    this.#system = system;
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    const stats = (): SystemStats => this.#snapshot ?? system.stats();

    for (const [name, help, pick] of kHostCounters) {
      new Counter({
        name: prefix + name, help, labelNames: ['host'], registers,
        collect() {
          this.reset();
          for (const host of stats().hosts) this.inc({ host: String(host.host) }, pick(host));
        },
      });
    }
    for (const [name, help, pick] of kHostGauges) {
      new Gauge({
        name: prefix + name, help, labelNames: ['host'], registers,
        collect() {
          for (const host of stats().hosts) this.set({ host: String(host.host) }, pick(host));
        },
      });
    }
    for (const [name, help, pick] of kLaneGauges) {
      new Gauge({
        name: prefix + name, help, labelNames: ['from', 'to'], registers,
        collect() {
          for (const host of stats().hosts) for (const lane of host.lanesIn) this.set({ from: String(lane.from), to: String(lane.to) }, pick(lane));
        },
      });
    }
    // The runtime keeps handler times in shared-memory HdrHistograms (one
    // message in statsSampleEvery is timed); stats() gives them as cumulative
    // buckets, exposed here as a native Prometheus histogram per host.
    const processing = `${prefix}message_processing_seconds`;
    const processingHelp = 'Time handlers took per message (sampled one message in statsSampleEvery), per host.';
    this.registry.registerMetric({
      name: processing,
      help: processingHelp,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: processing,
        help: processingHelp,
        type: 'histogram',
        aggregator: 'sum',
        values: stats().hosts.flatMap((host) => {
          const p = host.processingUs;
          const labels = { host: String(host.host) };
          return [
            ...p.boundsUs.map((le, i) => ({ labels: { ...labels, le: le / 1e6 }, value: p.buckets[i], metricName: `${processing}_bucket` })),
            { labels: { ...labels, le: '+Inf' }, value: p.count, metricName: `${processing}_bucket` },
            { labels, value: p.sumUs / 1e6, metricName: `${processing}_sum` },
            { labels, value: p.count, metricName: `${processing}_count` },
          ];
        }),
      }),
      reset: () => undefined,
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    // A cluster node's link (system.stats().cluster): series only where the system is one.
    const cluster = (): NonNullable<SystemStats['cluster']> | undefined => stats().cluster;
    for (const [name, help, pick] of kClusterGauges) {
      new Gauge({
        name: prefix + name, help, registers,
        collect() {
          const c = cluster();
          if (c !== undefined) this.set(pick(c));
        },
      });
    }
    for (const [name, help, pick] of kClusterCounters) {
      new Counter({
        name: prefix + name, help, registers,
        collect() {
          const c = cluster();
          this.reset();
          if (c !== undefined) this.inc(pick(c));
        },
      });
    }
    new Gauge({
      name: `${prefix}workers`, help: 'Worker threads the system runs (besides the main thread).', registers,
      collect() {
        this.set(stats().workers);
      },
    });

    const workerEvents = [
      ['worker.exited', 'worker_exits_total', 'Worker threads that exited unexpectedly (crash, resource limits, terminated after a stall).'],
      ['worker.replaced', 'worker_restarts_total', 'Worker threads started to replace one that exited.'],
      ['worker.stalled', 'worker_stalls_total', 'Workers whose heartbeat stopped past stallTimeoutMs.'],
    ] as const;
    for (const [type, name, help] of workerEvents) {
      const counter = new Counter({ name: prefix + name, help, labelNames: ['host'], registers });
      // Every worker gets its series at 0, so a first failure shows as an increase.
      for (let worker = 0; worker < system.workers; worker++) counter.inc({ host: String(worker) }, 0);
      this.#offs.push(system.events.on(type, (event) => counter.inc({ host: String(event.host) })));
    }

    this.#http = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP requests served by the gateway, by route pattern and status code.',
      labelNames: ['method', 'route', 'code'],
      buckets: kDurationBuckets,
      registers,
    });
    this.#ask = new Histogram({
      name: `${prefix}gateway_ask_duration_seconds`,
      help: 'Round trip of the gateway\'s asks to actors (delivery, handling and reply), by route and outcome.',
      labelNames: ['route', 'outcome'],
      buckets: kDurationBuckets,
      registers,
    });
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters (promtool lint refuses them); nodejs_active_{handles,requests,resources} say the same per type.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; reads `system.stats()` once for all metrics. */
  async scrape(): Promise<string> {
    this.#snapshot = this.#system.stats();
    try {
      return await this.registry.metrics();
    } finally {
      this.#snapshot = undefined;
    }
  }

  /** @internal Called by the gateway once per response. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.#http.observe({ method: kMethods.has(method) ? method : 'other', route, code: String(status) }, seconds);
  }

  /** @internal Called by the gateway once per ask. `outcome`: `ok`, or the error code's tail (`ask_timeout`, `actor_not_found`...). */
  observeAsk(route: string, outcome: string, seconds: number): void {
    this.#ask.observe({ route, outcome }, seconds);
  }

  /** Stops listening to the system's events. */
  close(): void {
    for (const off of this.#offs.splice(0)) off();
  }
}

type ClusterPick = (c: NonNullable<SystemStats['cluster']>) => number;
const kClusterGauges: [string, string, ClusterPick][] = [
  ['cluster_members', 'Live members of the cluster besides this node (up or unreachable).', (c) => c.members],
  ['cluster_unreachable_members', 'Members silent past suspectAfterMs and not yet declared down.', (c) => c.unreachable],
  ['cluster_held_bytes', 'Bytes held for other nodes that the NATS server has not confirmed.', (c) => c.heldBytes],
  ['cluster_stand_ins', 'Local stand-ins of actors on other nodes that sent this node messages.', (c) => c.standIns],
];
const kClusterCounters: [string, string, ClusterPick][] = [
  ['cluster_frames_sent_total', 'Frames (NATS messages of records) sent to other nodes.', (c) => c.framesSent],
  ['cluster_frames_received_total', 'Well-formed frames received from other nodes.', (c) => c.framesReceived],
  ['cluster_records_sent_total', 'Records (messages, replies) sent to other nodes.', (c) => c.recordsSent],
  ['cluster_records_received_total', 'Records received from other nodes.', (c) => c.recordsReceived],
  ['cluster_frames_dropped_total', 'Frames from the network that were not well-formed troupe frames, dropped whole.', (c) => c.framesDropped],
];

export function createMetrics(system: ActorSystem, options?: MetricsOptions): TroupeMetrics {
  return new TroupeMetrics(system, options);
}
