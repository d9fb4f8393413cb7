import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

describe('the published package', () => {
  it('ships the worker entry, the public types and the reusable actors', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, timeout: 60_000 });
    const files = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
    for (const path of [
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/host/worker-entry.js',
      'dist/src/tsx.js',
      'dist/actors/counter.js',
      'dist/actors/router.js',
      'package.json',
      'README.md',
    ]) {
      expect(files, path).toContain(path);
    }
    expect([...files].some((f) => f.startsWith('dist/test/') || f.startsWith('test/'))).toBe(false);
  });

  it('runs the README quick start and prints 1', async () => {
    const { stdout } = await run(process.execPath, [fileURLToPath(new URL('../dist/examples/quickstart.js', import.meta.url))], { timeout: 60_000 });
    expect(stdout.trim()).toBe('1');
  });
});
