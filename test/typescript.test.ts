import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixture, startSystem } from './helpers.js';

const run = promisify(execFile);

describe('actor modules written in TypeScript', () => {
  it('load in worker threads when the app runs under tsx (workers inherit --import tsx)', async () => {
    const main = fileURLToPath(new URL('./ts-app/main.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', main], { timeout: 60_000 });
    expect(JSON.parse(stdout.trim())).toEqual({ reply: 'hello typescript! (#1, on worker 0)' });
  });

  it('load through workerPreload: ["troupe/tsx"] in a plain node process', async () => {
    await using system = await startSystem({ workerExecArgv: [], workerPreload: ['troupe/tsx'] });
    const greeter = await system.spawn(new URL('./ts-app/greeter.ts', import.meta.url), { args: { punctuation: '?' }, host: 1 });
    expect(await greeter.ask({ type: 'greet', who: 'preload' })).toBe('hello preload? (#1, on worker 1)');
  });

  it('refuse a workerPreload entry that does not resolve', async () => {
    await expect(startSystem({ workerPreload: ['no-such-package-anywhere'] })).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_OPTION', option: 'workerPreload' });
  });

  it('fail with a typed error and a hint when no loader is present', async () => {
    await using system = await startSystem({ workerExecArgv: [] });
    const url = new URL('./ts-app/greeter.ts', import.meta.url);
    const error = await system.spawn(url, { args: { punctuation: '.' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TROUPE_ERR_MODULE_LOAD' });
    expect((error as Error).message).toContain('tsx');
    // the compiled form of a fixture loads fine on the same system
    expect(await (await system.spawn(fixture('counter'), { args: { start: 7 } })).ask({ type: 'get' })).toBe(7);
  });
});
