import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/chaos/run.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'troupe-chaos-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function chaos(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run chaos (the CLI, as a child process)', () => {
  it.each([
    [[], /say what to run/],
    [['--scenario', 'no-such-scenario'], /unknown scenario "no-such-scenario"; known: .*partition-halves/],
    [['--scenario', 'baseline', '--seed', 'abc'], /--seed must be a whole number/],
    [['--scenario', 'baseline', '--seed', '99999999999'], /--seed must be a whole number/],
    [['--scenario', 'baseline', '--duration', '10parsecs'], /--duration must be a duration/],
    [['--scenario', 'baseline', '--duration', '0s'], /--duration must be from 1s to 24h/],
    [['--scenario', 'partition-halves', '--workers', '1'], /names host 1, which a system of 1 worker does not have/],
    [['--scenario', 'worker-kill', '--workers', '0'], /--workers must be a whole number from 1/],
    [['--all', '--soak'], /choose one of/],
    [['--scenario', './no/such/scenario.mjs'], /no scenario file at "\.\/no\/such\/scenario\.mjs"/],
    [['--scenario', 'package.json/x.mjs'], /no scenario file at/],
    [['--scenario', 'baseline', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['--soak', '--cron', 'every tuesday'], /--cron is not a valid node-cron expression/],
  ])('bad input %j: a clear message, exit code 2, no stack trace', (args, message) => {
    const { code, stdout, stderr } = chaos(...args, '--out', out);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/^troupe chaos: /);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
  });

  it('--list names every scenario, at least 20', () => {
    const { code, stdout } = chaos('--list');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').length).toBeGreaterThanOrEqual(20);
  });

  it('a run writes history.jsonl, summary.json and report.html, and replays from its seed', { timeout: 120_000 }, () => {
    const { code, stdout } = chaos('--scenario', 'link-drop', '--seed', '3', '--duration', '1500ms', '--out', out);
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/PASS +link-drop/);
    const dir = join(out, readdirSync(out).find((d) => d.includes('link-drop'))!);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ scenario: 'link-drop', seed: 3, pass: true, outcome: 'pass', replay: 'npm run chaos -- --scenario link-drop --seed 3 --duration 1500ms' });
    expect(summary.ledger.totals.reliable).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'run', scenario: 'link-drop', seed: 3, faults: [{ label: 'link *→* drop 10%' }] });
    expect(lines.at(-1)).toMatchObject({ type: 'end', drained: true });
    expect(lines.some((l) => l.type === 'fault' && l.action === 'heal')).toBe(true);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/<svg/);
  });

  it('a failing run still writes its history and says how to replay it', { timeout: 120_000 }, () => {
    // A scenario file of the user's own that really fails: a restart order
    // lost in a cut lane is only ordered again after spawnTimeoutMs, here far
    // past the run, so the reliable channels into worker 1 cannot drain.
    const file = join(out, 'restart-never-retried.mjs');
    writeFileSync(
      file,
      `export default {
        name: 'restart-never-retried',
        description: 'a restart order lost, and no second one within the run',
        system: { spawnTimeoutMs: 600000 },
        faults: [
          { at: '30%', for: '30%', do: { kind: 'link', from: 'main', to: 1, dropRate: 1 } },
          { at: '40%', for: '20%', do: { kind: 'kill-worker', worker: 1 } },
        ],
      };\n`,
    );
    const { code, stdout } = chaos('--scenario', file, '--seed', '5', '--duration', '1500ms', '--out', out);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(/FAIL +restart-never-retried/);
    expect(stdout).toMatch(/did not drain/);
    expect(stdout).toContain(`replay: npm run chaos -- --scenario ${file} --seed 5 --duration 1500ms`);
    const dir = join(out, readdirSync(out).find((d) => d.includes('restart-never-retried-s5'))!);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ pass: false, outcome: 'fail', drained: false });
    expect(existsSync(join(dir, 'history.jsonl'))).toBe(true);
    const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'run', seed: 5 });
    expect(lines.filter((l) => l.type === 'send').length).toBeGreaterThan(100);
  });
});
