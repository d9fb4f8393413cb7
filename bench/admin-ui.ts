/**
 * The cost of a live view viewer (`<admin>/ui`): tell throughput with no
 * viewer against the same with one viewer reading the stream, in one system
 * and one run. Rounds alternate (none first in even pairs, viewer first in
 * odd ones) so drift in the machine's load falls on both sides. Two paths:
 * worker 0 → worker 1 (the view's sampler runs on the main thread, which
 * these messages never touch: what is left is the shared CPU) and
 * main → worker 1 (the sampler shares the producer's thread).
 *
 * The viewer is what the page does: `fetch()` of the stream with an API key,
 * reading the server-sent events as they come. A round sends `--chunk`
 * messages at a time until `--round-ms` has passed, so a viewer sees about
 * round-ms / interval-ms frames in each, however fast the machine is.
 *
 * Also: what one frame costs the main thread (stats read, tree, JSON), timed
 * on its own, since a 1 Hz cost that small is below the noise of any
 * throughput comparison on a shared machine.
 *
 *   node dist/bench/admin-ui.js [--quick] [--pairs N] [--round-ms N] [--interval-ms N] [--chunk N] [--burst N]
 */
import { pino } from 'pino';
import { HealthMonitor, createAuth, createGateway } from 'troupe/http';
import { LiveView } from '../src/ops/live-view.js';
import type { ProducerReport } from './actors/producer.js';
import { emit, intFlag, median, medianOf, medianRate, parseFlags, ping, produce, progress, rateRun, round, showRate, sleep, type RateRun } from './lib.js';
import { startBooted } from './system.js';

const flags = parseFlags();
const pairs = intFlag(flags, 'pairs', flags.quick ? 1 : 9);
const roundMs = intFlag(flags, 'round-ms', flags.quick ? 200 : 4000);
const intervalMs = intFlag(flags, 'interval-ms', flags.quick ? 100 : 1000);
const chunk = intFlag(flags, 'chunk', 100_000);
const burst = intFlag(flags, 'burst', 1024);
const timeoutMs = 120_000;
const kSettleMs = Math.max(500, 3 * intervalMs) + 200;

const system = await startBooted({ workers: 2, logLevel: 'silent' });
const sink = await system.spawn(new URL('../actors/sink.js', import.meta.url), { host: 1 });
const producer = await system.spawn(new URL('./actors/producer.js', import.meta.url), { host: 0 });
const auth = createAuth({ pepper: 'bench-admin-ui-pepper-0123456789' });
const { key } = auth.createApiKey('viewer', { subject: 'bench' });
const gateway = createGateway(system, { auth, logger: pino({ level: 'silent' }), metrics: false, ui: { intervalMs } });
const { url } = await gateway.listen();

interface Viewer {
  frames: number;
  bytes: number;
  close(): Promise<void>;
}

/** Connects as the page does and resolves once the first frame is in; reading goes on until `close`. */
async function connectViewer(): Promise<Viewer> {
  const controller = new AbortController();
  const response = await fetch(`${url}/admin/ui/stream`, { headers: { 'x-api-key': key }, signal: controller.signal });
  if (response.status !== 200) throw new Error(`the stream answered ${response.status}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const viewer: Viewer = { frames: 0, bytes: 0, close: async () => {} };
  let buffer = '';
  let firstFrame: (() => void) | undefined;
  const first = new Promise<void>((resolve) => (firstFrame = resolve));
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        viewer.bytes += value.byteLength;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (!block.startsWith('event: frame')) continue;
          // Parsed as the page parses it: the client's share of the cost is on this thread too.
          JSON.parse(block.slice(block.indexOf('data: ') + 6));
          viewer.frames++;
          firstFrame?.();
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  viewer.close = async () => {
    controller.abort();
    await reading;
  };
  await first;
  return viewer;
}

const workerToWorker = async (n: number): Promise<RateRun> => {
  const report = await producer.ask<ProducerReport>({ type: 'run', sink, n, burst }, { timeoutMs });
  return rateRun(n, report.ms, { stalls: report.stalls, refused: report.refused });
};

const mainToWorker = async (n: number): Promise<RateRun> => {
  sink.tell({ type: 'reset' });
  const start = performance.now();
  const report = await produce((i) => sink.tell(ping(i)), n, burst, () => sink.whenWritable());
  await sink.ask({ type: 'expect', n }, { timeoutMs });
  return rateRun(n, performance.now() - start, { stalls: report.stalls, refused: report.refused });
};

interface Side {
  runs: RateRun[];
  frames: number[];
}

/** Runs of `chunk` messages back to back until `roundMs` has passed: a round spans the same number of frames however fast the machine is. */
async function timedRound(once: (n: number) => Promise<RateRun>): Promise<RateRun> {
  let messages = 0;
  let ms = 0;
  let stalls = 0;
  const cpu = process.cpuUsage();
  while (ms < roundMs) {
    const run = await once(chunk);
    messages += chunk;
    ms += run.ms;
    stalls += run.stalls;
  }
  const used = process.cpuUsage(cpu);
  // CPU of every thread of the process per message: what a viewer adds shows here even when other work on the machine moves the rate.
  return rateRun(messages, ms, { stalls, cpuNsPerMessage: round(((used.user + used.system) * 1000) / messages, 1) });
}

async function compare(label: string, chunkRun: (n: number) => Promise<RateRun>): Promise<{ none: Side; viewer: Side; pairRatios: number[] }> {
  const once = (): Promise<RateRun> => timedRound(chunkRun);
  for (let i = 0; i < (flags.quick ? 1 : 3); i++) await chunkRun(chunk);
  const none: Side = { runs: [], frames: [] };
  const viewer: Side = { runs: [], frames: [] };
  const pairRatios: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? (['none', 'viewer'] as const) : (['viewer', 'none'] as const);
    const got: Record<string, RateRun> = {};
    for (const side of order) {
      // Every round starts from the same rest: the view keeps watching for max(500, 3 × interval) ms after its
      // last viewer leaves (for a page's reconnect), so a round without a viewer waits that out, and so does
      // the other side, so that neither follows busier seconds than the other.
      await sleep(kSettleMs);
      if (side === 'none') {
        got.none = await once();
        none.runs.push(got.none);
        none.frames.push(0);
      } else {
        const connected = await connectViewer();
        const before = connected.frames;
        got.viewer = await once();
        viewer.runs.push(got.viewer);
        viewer.frames.push(connected.frames - before);
        await connected.close();
      }
    }
    pairRatios.push(round(got.viewer.msgsPerSec / got.none.msgsPerSec, 4));
    progress(`${label} pair ${pair + 1}/${pairs}: none ${showRate(got.none)} ${got.none.cpuNsPerMessage} ns CPU/msg, viewer ${showRate(got.viewer)} ${got.viewer.cpuNsPerMessage} ns CPU/msg (${viewer.frames.at(-1)} frames), ratio ${pairRatios.at(-1)}`);
  }
  return { none, viewer, pairRatios };
}

/**
 * One frame as the stream builds and sends it (stats read, names, tree,
 * JSON), timed alone: each attach builds one. One viewer stays attached
 * throughout, so the attaches timed are not the first (which also subscribes
 * the failure events and reads the health monitor once).
 */
function frameCost(frames: number): { usPerFrame: number; bytesPerFrame: number; mainCpuPercentAtInterval: number } {
  const health = new HealthMonitor(system);
  const view = new LiveView(system, health, { intervalMs });
  const resident = view.attach(() => {});
  let bytes = 0;
  const start = performance.now();
  for (let i = 0; i < frames; i++) {
    const attached = view.attach(() => {});
    bytes += JSON.stringify(attached.first).length;
    attached.detach();
  }
  const usPerFrame = ((performance.now() - start) * 1000) / frames;
  resident.detach();
  view.close();
  health.close();
  return { usPerFrame: round(usPerFrame, 1), bytesPerFrame: Math.round(bytes / frames), mainCpuPercentAtInterval: round((usPerFrame / 1000 / intervalMs) * 100, 4) };
}

const frame = frameCost(flags.quick ? 100 : 2000);
progress(`one frame: ${frame.usPerFrame} µs, ${frame.bytesPerFrame} bytes; ${frame.mainCpuPercentAtInterval} % of the main thread at one frame per ${intervalMs} ms`);
const w2w = await compare('worker0→worker1', workerToWorker);
const m2w = await compare('main→worker1', mainToWorker);
await gateway.close();
await system.shutdown();

const summaryOf = (metric: string, result: Awaited<ReturnType<typeof compare>>) => {
  const none = medianRate(result.none.runs);
  const viewer = medianRate(result.viewer.runs);
  return { metric, value: viewer, unit: 'msgs/s', baseline: 'no viewer, same run', baselineValue: none, ratio: round(viewer / none, 3), target: 'within 2 % (ratio ≥ 0.98)' };
};
const cpuOf = (metric: string, result: Awaited<ReturnType<typeof compare>>) => {
  const none = median(result.none.runs.map((r) => r.cpuNsPerMessage));
  const viewer = median(result.viewer.runs.map((r) => r.cpuNsPerMessage));
  // Lower is better, so the ratio is baseline / value as for latencies.
  return { metric, value: viewer, unit: 'ns CPU/msg', baseline: 'no viewer, same run', baselineValue: none, ratio: round(none / viewer, 3) };
};
const detail = (result: Awaited<ReturnType<typeof compare>>) => ({
  none: { median: medianOf(result.none.runs), runs: result.none.runs },
  viewer: { median: medianOf(result.viewer.runs), runs: result.viewer.runs, framesPerRound: result.viewer.frames },
  pairRatios: result.pairRatios,
  medianPairRatio: round(median(result.pairRatios), 4),
});

emit({
  name: 'admin-ui',
  params: { pairs, roundMs, intervalMs, chunk, burst, workers: 2, message: ping(0) },
  summary: [
    summaryOf('tell worker0→worker1, one live view viewer', w2w),
    summaryOf('tell main→worker1, one live view viewer', m2w),
    cpuOf('process CPU per message worker0→worker1, one viewer', w2w),
    cpuOf('process CPU per message main→worker1, one viewer', m2w),
    { metric: 'one live view frame, main thread', value: frame.usPerFrame, unit: 'µs' },
  ],
  results: { frame, workerToWorker: detail(w2w), mainToWorker: detail(m2w) },
});
