/**
 * HTTP load: the troupe gateway (request → ask an actor on a worker thread →
 * JSON reply) against a plain node:http server doing the same work on its
 * main thread, side by side in one run. autocannon drives both from a child
 * process (so the load generator does not share the servers' event loop), on
 * loopback, for a bounded duration each.
 *
 *   npm run load -- [--connections 32] [--duration 5] [--pipelining 1] [--work 0,1000,10000]
 *                   [--workers N] [--spin-micros 0] [--auth none|apikey|jwt] [--warmup 1] [--log]
 *
 * `--work` lists FNV-1a rounds over a 54-character string per request (0: the
 * hop alone; 10000: a few milliseconds of CPU). `--spin-micros` is the
 * system's option, 0 here by default (the runtime's default is 200): see
 * README, Operations. Prints a table on stderr and one JSON line on stdout,
 * like the other benchmarks.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { type ActorRef } from 'troupe';
import { createAuth, createGateway, httpErrors, type Gateway } from 'troupe/http';
import { work, type WorkRequest } from './actors/load-work.js';
import { emit, environment, intFlag, latencyHistogram, parseFlags, progress, round, type SummaryRow } from './lib.js';
import { startBooted } from './system.js';

interface ClientReport {
  reqPerSec: number;
  total: number;
  non2xx: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

const kText = 'the quick brown fox jumps over the lazy dog 0123456789';
const kMaxRounds = 1_000_000;
const flags = parseFlags();

const clientUrl = flags.value('client');
if (clientUrl !== undefined) await runClient(clientUrl);
else await runServers();

// ------------------------------------------------------------------ client

/** Child process: one autocannon run; latencies recorded per response in µs (autocannon's own are whole ms). */
async function runClient(url: string): Promise<void> {
  const histogram = latencyHistogram();
  const instance = autocannon({
    url,
    method: 'POST',
    connections: intFlag(flags, 'connections', 32),
    duration: intFlag(flags, 'duration', 5),
    pipelining: intFlag(flags, 'pipelining', 1),
    headers: JSON.parse(flags.value('headers') ?? '{}') as Record<string, string>,
    body: flags.value('body') ?? '',
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => histogram.recordValue(Math.max(1, Math.round(ms * 1e6))));
  const result = await instance;
  const ms = (percentile: number): number => round(histogram.getValueAtPercentile(percentile) / 1e6, 3);
  const report: ClientReport = {
    reqPerSec: Math.round(result.requests.total / result.duration),
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    p50Ms: ms(50),
    p99Ms: ms(99),
    p999Ms: ms(99.9),
    maxMs: round(histogram.maxValue / 1e6, 3),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function drive(url: string, seconds: number, headers: Record<string, string>, body: string): Promise<ClientReport> {
  const args = [fileURLToPath(import.meta.url), '--client', url, '--duration', String(seconds), '--headers', JSON.stringify(headers), '--body', body];
  for (const name of ['connections', 'pipelining']) if (flags.value(name) !== undefined) args.push(`--${name}`, flags.value(name)!);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop();
      if (code !== 0 || line === undefined || !line.startsWith('{')) reject(new Error(`load client exited with ${code}`));
      else resolve(JSON.parse(line) as ClientReport);
    });
  });
}

// ----------------------------------------------------------------- servers

function parseWork(body: unknown): WorkRequest {
  const { rounds, text } = (body ?? {}) as Partial<WorkRequest>;
  if (!Number.isInteger(rounds) || rounds! < 0 || rounds! > kMaxRounds || typeof text !== 'string' || text.length > 1024) {
    throw httpErrors.badRequest('expected {"rounds": 0..1000000, "text": "..."}');
  }
  return { rounds: rounds!, text };
}

/** The baseline: the same body parsing, work and JSON reply, all on the main thread. */
function plainServer(): Server {
  return createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/work') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let payload: string;
      let status = 200;
      try {
        payload = JSON.stringify(work(parseWork(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
      } catch {
        status = 400;
        payload = '{"error":"bad request"}';
      }
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    });
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/work`;
}

async function runServers(): Promise<void> {
  const workers = flags.value('workers') === '0' ? 0 : intFlag(flags, 'workers', availableParallelism());
  const seconds = intFlag(flags, 'duration', 5);
  const warmup = flags.value('warmup') === '0' ? 0 : intFlag(flags, 'warmup', 1);
  const levels = (flags.value('work') ?? '0,1000,10000').split(',').map((v) => Number(v));
  if (levels.some((v) => !Number.isInteger(v) || v < 0 || v > kMaxRounds)) throw new TypeError(`--work must list integers 0..${kMaxRounds}`);
  const authMode = flags.value('auth') ?? 'none';
  if (!['none', 'apikey', 'jwt'].includes(authMode)) throw new TypeError('--auth must be none, apikey or jwt');

  // The main thread serves HTTP here: a host spinning for replies keeps it off its sockets (README, Operations).
  const spinMicros = flags.value('spin-micros') === '0' || flags.value('spin-micros') === undefined ? 0 : intFlag(flags, 'spin-micros', 0);
  const system = await startBooted({ workers, logLevel: 'warn', spinMicros });
  const refs: ActorRef[] = [];
  const actorModule = new URL('./actors/load-work.js', import.meta.url);
  for (let i = 0; i < Math.max(1, workers); i++) refs.push(await system.spawn(actorModule, { host: workers === 0 ? 'main' : i }));
  const auth = authMode === 'none' ? false : createAuth({ jwt: { secret: randomSecret(), issuer: 'load', audience: 'load' }, pepper: randomSecret() });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth !== false && authMode === 'apikey') headers['x-api-key'] = auth.createApiKey('operator').key;
  if (auth !== false && authMode === 'jwt') headers.authorization = `Bearer ${(await auth.issueTokens('load', 'operator')).accessToken}`;
  const gateway: Gateway = createGateway(system, { auth, logger: pino({ level: process.argv.includes('--log') ? 'info' : 'warn' }) });
  let next = 0;
  gateway.route({ method: 'POST', path: '/work', actor: () => refs[next++ % refs.length], message: (r) => parseWork(r.body) });
  const troupeUrl = `${(await gateway.listen()).url}/work`;
  const plain = plainServer();
  const plainUrl = await listen(plain);

  const env = environment();
  progress(`HTTP load on ${env.cpu} × ${env.cores}, Node ${env.node}: ${workers} worker(s), spinMicros ${spinMicros}, auth ${authMode}, ${seconds} s per run, connections ${flags.value('connections') ?? 32}, pipelining ${flags.value('pipelining') ?? 1}`);
  const results: { rounds: number; troupe: ClientReport; plain: ClientReport }[] = [];
  for (const rounds of levels) {
    const body = JSON.stringify({ rounds, text: kText });
    const runs: Partial<Record<'troupe' | 'plain', ClientReport>> = {};
    // alternate who goes first, so neither always meets the warmer machine
    const order: ('troupe' | 'plain')[] = results.length % 2 === 0 ? ['troupe', 'plain'] : ['plain', 'troupe'];
    for (const which of order) {
      const url = which === 'troupe' ? troupeUrl : plainUrl;
      if (warmup > 0) await drive(url, warmup, headers, body);
      runs[which] = await drive(url, seconds, headers, body);
      progress(`work ${rounds}: ${which} ${runs[which]!.reqPerSec} req/s, p50 ${runs[which]!.p50Ms} ms, p99 ${runs[which]!.p99Ms} ms`);
    }
    results.push({ rounds, troupe: runs.troupe!, plain: runs.plain! });
  }
  await gateway.shutdown();
  await new Promise((resolve) => plain.close(resolve));

  const table = [
    '',
    '| work (rounds) | server | req/s | p50 ms | p99 ms | p99.9 ms | max ms | non-2xx | errors |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...results.flatMap(({ rounds, troupe, plain: base }) =>
      ([['troupe gateway → actor', troupe], ['plain node:http', base]] as const).map(
        ([name, r]) => `| ${rounds} | ${name} | ${r.reqPerSec} | ${r.p50Ms} | ${r.p99Ms} | ${r.p999Ms} | ${r.maxMs} | ${r.non2xx} | ${r.errors} |`,
      ),
    ),
    '',
  ];
  process.stderr.write(`${table.join('\n')}\n`);
  const summary: SummaryRow[] = results.flatMap(({ rounds, troupe, plain: base }) => [
    { metric: `req/s, work ${rounds}`, value: troupe.reqPerSec, unit: 'req/s', baseline: 'plain node:http', baselineValue: base.reqPerSec, ratio: round(troupe.reqPerSec / base.reqPerSec) },
    { metric: `p99, work ${rounds}`, value: troupe.p99Ms, unit: 'ms', baseline: 'plain node:http', baselineValue: base.p99Ms, ratio: round(base.p99Ms / troupe.p99Ms) },
  ]);
  emit({ name: 'http-load', params: { workers, spinMicros, seconds, auth: authMode, connections: intFlag(flags, 'connections', 32), pipelining: intFlag(flags, 'pipelining', 1), levels }, summary, results: { runs: results } });
}

function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}
