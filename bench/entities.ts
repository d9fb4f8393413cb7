/**
 * Virtual actors after a restart: `entities` durable entities each persist
 * one event (then the process exits, every one of them passivated with it);
 * a fresh process (the restart) sends each of them one ask at once. Reported:
 * time from the first ask to the last answer, activations/s, the restarted
 * process's peak RSS (workers included: they are threads of it), and that
 * every answer carried the recovered event.
 *
 * Each phase runs in its own child process, so the RSS is that of the
 * restarted process alone.
 *
 *   node dist/bench/entities.js [--quick] [--entities N]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActorSystem, type EntityRef } from 'troupe';
import { sqliteStore } from 'troupe/persistence';
import { emit, intFlag, parseFlags, progress, round } from './lib.js';

const flags = parseFlags();
const entities = intFlag(flags, 'entities', flags.quick ? 5000 : 100_000);
const counter = new URL('./actors/durable-plain.js', import.meta.url);

interface PhaseResult {
  ms: number;
  answered: number;
  wrong: number;
  maxRssMiB: number;
  heapUsedMiB: number;
}

/** One phase, in this (child) process: seed persists one event per entity; wake asks each once. */
async function phase(kind: 'seed' | 'wake', path: string): Promise<PhaseResult> {
  const system = await ActorSystem.start({ workers: 2, logLevel: 'silent', store: sqliteStore({ path }) });
  try {
    const refs: EntityRef[] = Array.from({ length: entities }, (_, i) => system.entity(counter, i, { type: 'counter' }));
    const msg = kind === 'seed' ? { type: 'fill', events: 1, batch: 1 } : { type: 'get' };
    const start = performance.now();
    const answers = await Promise.all(refs.map((ref) => ref.ask<number>(msg, { timeoutMs: 600_000 })));
    const ms = performance.now() - start;
    const wrong = answers.filter((n) => n !== 1).length;
    return { ms: round(ms, 0), answered: answers.length, wrong, maxRssMiB: round(process.resourceUsage().maxRSS / 1024, 0), heapUsedMiB: round(process.memoryUsage().heapUsed / 2 ** 20, 0) };
  } finally {
    await system.shutdown();
  }
}

function runPhase(kind: 'seed' | 'wake', path: string): Promise<PhaseResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--phase', kind, '--path', path, '--entities', String(entities)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || line === undefined || !line.startsWith('{')) reject(new Error(`${kind} phase exited ${code}`));
      else resolve(JSON.parse(line) as PhaseResult);
    });
  });
}

const own = flags.value('phase');
if (own === 'seed' || own === 'wake') {
  const result = await phase(own, flags.value('path')!);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const dir = mkdtempSync(join(process.env.TROUPE_BENCH_DIR ?? tmpdir(), 'troupe-bench-entities-'));
  try {
    const path = join(dir, 'entities.db');
    const seed = await runPhase('seed', path);
    progress(`seed: ${entities} entities activated, one event persisted each, in ${seed.ms} ms (peak RSS ${seed.maxRssMiB} MiB)`);
    const wake = await runPhase('wake', path);
    progress(`restart: ${wake.answered} entities reactivated from the journal and answered in ${wake.ms} ms, ${wake.wrong} wrong; peak RSS ${wake.maxRssMiB} MiB`);
    if (wake.wrong > 0 || wake.answered !== entities) throw new Error(`${wake.wrong} of ${wake.answered} answers did not carry the persisted event`);
    emit({
      name: 'entities',
      params: { entities, workers: 2, store: 'sqlite (WAL, synchronous=FULL)', maxActivating: 256, idleMs: 60_000 },
      summary: [
        { metric: `${entities} passivated entities, one ask each after a restart: all answered`, value: wake.ms, unit: 'ms' },
        { metric: 'reactivations (spawn + recovery + answer)', value: round((entities * 1000) / wake.ms, 0), unit: 'entities/s' },
        { metric: 'peak RSS of the restarted process', value: wake.maxRssMiB, unit: 'MiB' },
        { metric: 'first activations, one durable event each', value: round((entities * 1000) / seed.ms, 0), unit: 'entities/s' },
      ],
      results: { seed, wake },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
