/**
 * The cost of OpenTelemetry tracing (the `tracing` option): cross-worker tell
 * throughput (an actor on worker 0 tells a sink on worker 1) and ask
 * throughput (main asks an echo actor on worker 0, 16 in flight), with
 * tracing absent (option off, @opentelemetry/api never loaded), present but
 * unsampled (SDK on every thread, ratio 0) and 1 % sampled (each ping and
 * each ask a trace of its own, ratio 0.01, spans batched to an exporter that
 * drops them). A process per mode (bench/tracing-child.ts), the modes' order
 * rotated every round so drift falls on all of them. `--baseline DIR`: also
 * the build at DIR (a checkout from before tracing, built), as the baseline
 * of "absent".
 *
 *   node dist/bench/tracing.js [--quick] [--rounds N] [--messages N] [--asks N] [--baseline DIR]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emit, intFlag, median, parseFlags, progress, round } from './lib.js';

const flags = parseFlags();
const rounds = intFlag(flags, 'rounds', flags.quick ? 1 : 5);
const messages = intFlag(flags, 'messages', flags.quick ? 100_000 : 500_000);
const asks = intFlag(flags, 'asks', flags.quick ? 10_000 : 50_000);
const baseline = flags.value('baseline');
const child = fileURLToPath(new URL('./tracing-child.js', import.meta.url));

type Mode = 'baseline' | 'absent' | 'unsampled' | 'sampled';
const modes: Mode[] = baseline === undefined ? ['absent', 'unsampled', 'sampled'] : ['baseline', 'absent', 'unsampled', 'sampled'];
const runs: Record<Mode, { tell: number; ask: number }[]> = { baseline: [], absent: [], unsampled: [], sampled: [] };

for (let r = 0; r < rounds; r++) {
  const order = modes.map((_, i) => modes[(i + r) % modes.length]!);
  for (const mode of order) {
    const args = [child, '--mode', mode === 'baseline' ? 'absent' : mode, '--messages', String(messages), '--asks', String(asks)];
    if (mode === 'baseline') args.push('--root', baseline!);
    const done = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
    if (done.status !== 0) throw new Error(`tracing-child ${mode} failed (status ${done.status})`);
    const line = JSON.parse(done.stdout.trim().split('\n').pop()!) as { tell: number; ask: number };
    runs[mode].push({ tell: line.tell, ask: line.ask });
    progress(`round ${r + 1}/${rounds}, ${mode}: tell ${(line.tell / 1e6).toFixed(2)} M msgs/s, ask ${Math.round(line.ask)} asks/s`);
  }
}

const med = (mode: Mode, what: 'tell' | 'ask'): number => Math.round(median(runs[mode].map((run) => run[what])));
const rows = [];
for (const what of ['tell', 'ask'] as const) {
  const unit = what === 'tell' ? 'msgs/s' : 'asks/s';
  const label = what === 'tell' ? 'tell worker0→worker1' : 'ask main→worker0 (16 in flight)';
  if (baseline !== undefined) {
    rows.push({ metric: `${label}, tracing absent`, value: med('absent', what), unit, baseline: 'build before tracing, same run', baselineValue: med('baseline', what), ratio: round(med('absent', what) / med('baseline', what), 3), target: 'cost ≤ 1 %' });
  }
  for (const [mode, target] of [['unsampled', 'cost ≤ 3 %'], ['sampled', 'cost ≤ 10 %']] as const) {
    rows.push({ metric: `${label}, tracing ${mode === 'sampled' ? '1 % sampled' : 'present, unsampled'}`, value: med(mode, what), unit, baseline: 'tracing absent, same run', baselineValue: med('absent', what), ratio: round(med(mode, what) / med('absent', what), 3), target });
  }
}

emit({
  name: 'tracing',
  params: { rounds, messages, asks, workers: 2, concurrency: 16, sampleRatio: 0.01, baseline: baseline ?? null },
  summary: rows,
  results: Object.fromEntries(modes.map((mode) => [mode, { tell: med(mode, 'tell'), ask: med(mode, 'ask'), runs: runs[mode] }])),
});
