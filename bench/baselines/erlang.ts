/**
 * Erlang/OTP as the reference actor runtime: compiles bench/erlang/*.erl with
 * `erlc` into a temporary directory and runs them with `erl`, when both are
 * on PATH (Debian: `apt-get install erlang-base`). Nothing here is required:
 * without `erl` every call answers "skipped".
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** bench/erlang in the source tree (the .erl files are not compiled by tsc). */
const kSources = fileURLToPath(new URL('../../../bench/erlang/', import.meta.url));

export interface ErlangRun {
  /** Milliseconds of each recorded run. */
  ms: number[];
  /** Scheduler threads the VM ran with. */
  schedulers: number;
  otp: string;
}

export type ErlangOutcome = { ok: true; run: ErlangRun } | { ok: false; skipped: string };

let compiled: Promise<string | { skipped: string }> | undefined;

/** Compiles every module once per process; resolves with the directory of the .beam files. */
function compile(): Promise<string | { skipped: string }> {
  compiled ??= (async () => {
    try {
      await run('erl', ['-noshell', '-eval', 'halt().'], { timeout: 30_000 });
    } catch {
      return { skipped: 'skipped: erl not installed (Debian: apt-get install erlang-base)' };
    }
    const dir = mkdtempSync(join(tmpdir(), 'troupe-erl-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    try {
      await run('erlc', ['-o', dir, join(kSources, 'pingpong.erl'), join(kSources, 'threadring.erl')], { timeout: 60_000 });
    } catch (error) {
      return { skipped: `skipped: erlc failed: ${(error as Error).message.split('\n')[0]}` };
    }
    return dir;
  })();
  return compiled;
}

/**
 * Evaluates `call` (e.g. `pingpong:main(40000, 5, 1)`) in a fresh VM with
 * `schedulers` scheduler threads (default: one per core, OTP's default) and
 * parses the JSON line it prints.
 */
export async function runErlang(call: string, schedulers?: number): Promise<ErlangOutcome> {
  const dir = await compile();
  if (typeof dir !== 'string') return { ok: false, skipped: dir.skipped };
  const args = [...(schedulers === undefined ? [] : ['+S', `${schedulers}:${schedulers}`]), '-noshell', '-pa', dir, '-eval', `${call}, init:stop().`];
  const { stdout } = await run('erl', args, { timeout: 600_000 });
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`erl printed no JSON line for ${call}: ${stdout.slice(0, 200)}`);
  return { ok: true, run: JSON.parse(line) as ErlangRun };
}
