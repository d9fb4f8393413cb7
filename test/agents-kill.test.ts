/**
 * Runs survive `kill -9` of their process. A child process (a real one,
 * killed with SIGKILL) runs workflows against the loopback LLM server; this
 * process then opens the same SQLite store and the runs resume. The server's
 * bill proves what the issue promises: no finished LLM call is paid twice
 * (at most the one in flight at the kill is reissued), and the ledger file
 * the tool appends to proves no completed side effect runs again.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sqliteStore } from 'troupe/persistence';
import { createAgents, openai, type Agents } from 'troupe/agents';
import { seededRandom } from '../examples/actors/random.js';
import { dir, server, startSystem, stopSystem, system, useLoopbackServer } from './agents-harness.js';

const child = fileURLToPath(new URL('../dist/test/fixtures/agents-child.js', import.meta.url));
const workflow = (name: string): string => new URL(`../dist/test/fixtures/workflows/${name}.js`, import.meta.url).href;
useLoopbackServer('troupe-agents-kill-', 60);

interface ChildEvent {
  run: string;
  type: string;
  step?: string;
}

/** Starts the child on `db`; `killWhen` sees each event line and each server request, and returns true to SIGKILL it `delayMs` later. */
async function runChildUntilKilled(db: string, name: string, ids: string[], ledgerPath: string, killWhen: (seen: ChildEvent[], requests: number) => boolean, delayMs = 0): Promise<ChildEvent[]> {
  const proc = spawn(process.execPath, [child, db, server.openaiBaseURL, workflow(name), ids.join(','), ledgerPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
  const seen: ChildEvent[] = [];
  let doomed = false;
  const check = (requests: number): void => {
    if (doomed || !killWhen(seen, requests)) return;
    doomed = true;
    if (delayMs === 0) proc.kill('SIGKILL');
    else setTimeout(() => proc.kill('SIGKILL'), delayMs);
  };
  const off = server.onRequest((info) => check(info.n));
  try {
    for await (const line of createInterface({ input: proc.stdout! })) {
      seen.push(JSON.parse(line) as ChildEvent);
      check(server.bill().requests);
    }
    expect(await exited).toBe('SIGKILL');
  } finally {
    off();
  }
  return seen;
}

async function boot(db: string): Promise<Agents> {
  await startSystem({ workers: 2, logLevel: 'silent', store: sqliteStore({ path: db }) });
  const agents = createAgents(system!, { providers: { gpt: openai({ model: 'gpt-4o-mini', apiKey: 'test', baseURL: server.openaiBaseURL }) } });
  await agents.ready;
  return agents;
}

describe('kill -9 in the middle of runs', () => {
  it.each([1, 2, 3])('seed %i: the runs resume; no finished llm call is billed twice and the tool ran once per run', async (seed) => {
    const next = seededRandom(seed);
    const db = join(dir, `kill-${seed}.db`);
    const ledgerPath = join(dir, `kill-${seed}.log`);
    writeFileSync(ledgerPath, '');
    const ids = ['r0', 'r1', 'r2', 'r3'].map((id) => `${id}-s${seed}`);
    // 4 runs of 4 sequential llm calls: kill once the server has seen request k (of 16), a little later still.
    const killAt = 4 + Math.floor(next() * 9);
    const delayMs = Math.floor(next() * 90);
    const seen = await runChildUntilKilled(db, 'sequential', ids, ledgerPath, (_seen, requests) => requests >= killAt, 1 + delayMs);
    const finishedBeforeKill = seen.filter((e) => e.type === 'stepFinished').map((e) => `${e.run}/${e.step}`);
    expect(seen.some((e) => e.type === 'runFinished')).toBe(false); // killed mid-run, not after
    const billedBeforeKill = server.bill();

    const agents = await boot(db);
    const results = await Promise.all(ids.map((id) => agents.get(id).result()));
    results.forEach((result, i) => {
      expect((result.d as any).text).toBe(`re: ${ids[i]} call 4`);
      expect(result.side).toBe('appended');
    });
    // The tool's side effect: once per run, kill or no kill.
    const lines = readFileSync(ledgerPath, 'utf8').trim().split('\n');
    expect(lines.sort()).toEqual(ids.map((id) => `${id}/side/tool/append/0`).sort());

    const bill = server.bill();
    const promptOf: Record<string, number> = { a: 1, b: 2, c: 3, d: 4 };
    let reissued = 0;
    for (const id of ids) {
      for (const step of ['a', 'b', 'c', 'd']) {
        const counts = bill.byPrompt[`${id} call ${promptOf[step]}`];
        expect(counts?.completed, `${id}/${step}`).toBeGreaterThanOrEqual(1);
        // A step the child reported finished was journaled: it is never paid for again.
        if (finishedBeforeKill.includes(`${id}/${step}`)) expect(counts.completed, `${id}/${step}`).toBe(1);
        reissued += counts.completed - 1;
      }
    }
    // Sequential runs have one call each in flight at most: at most one reissue per run.
    expect(reissued).toBeLessThanOrEqual(ids.length);
    expect(billedBeforeKill.completed).toBeGreaterThan(0);
    expect(bill.completed).toBe(16 + reissued);
    expect(finishedBeforeKill.length).toBeGreaterThan(0);
  });

  it('a waitFor survives kill -9 and a restart: each of two waits on one signal name takes its own signal, sent after each restart', async () => {
    const db = join(dir, 'waits.db');
    const ledgerPath = join(dir, 'waits.log');
    writeFileSync(ledgerPath, '');
    const seen = await runChildUntilKilled(db, 'waits', ['w1'], ledgerPath, (events) => events.some((e) => e.type === 'waiting' && e.step === 'first'));
    expect(seen.filter((e) => e.type === 'stepFinished').map((e) => e.step)).toEqual(['ask']);

    let agents = await boot(db);
    let run = agents.get('w1');
    let waiting = run.events.waitFor('waiting', (e) => e.step === 'second');
    expect(await run.signal('approval', { by: 'ada' })).toBe(true);
    await waiting;
    expect((await run.status()).steps.first).toMatchObject({ status: 'done' });
    await stopSystem(); // a second restart, a graceful one, while the second wait waits

    agents = await boot(db);
    run = agents.get('w1');
    expect((await run.status()).steps.second).toMatchObject({ status: 'running' });
    expect(await run.signal('approval', { by: 'grace' })).toBe(true);
    const result = await run.result();
    expect(result.first).toEqual({ by: 'ada' });
    expect(result.second).toEqual({ by: 'grace' });
    expect(result.act).toEqual({ by: ['ada', 'grace'] });
    expect(readFileSync(ledgerPath, 'utf8').trim().split('\n')).toEqual(['w1/act/tool/act/0']);
    expect(server.bill().byPrompt['w1 needs approval']).toEqual({ requests: 1, completed: 1 });
  });
});
