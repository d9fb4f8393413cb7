/**
 * A real PostgreSQL server for tests and benchmarks: Debian's binaries, a fresh data
 * directory under the OS temp dir, listening on 127.0.0.1 on a free port,
 * trust auth for one user. Run as the `postgres` user when the tests run as
 * root (the server refuses root). Stopped, and its directory removed, by stop().
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { freePort } from './free-port.js';

export interface PgServer {
  connectionString: string;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], 'bin');
  }
  throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
}

export async function startPostgres(): Promise<PgServer> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'troupe-pg-'));
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString().trim()) : undefined;
  const gid = asRoot ? Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) : undefined;
  if (uid !== undefined && gid !== undefined) chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const as = uid === undefined ? {} : { uid, gid };
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'troupe', '--auth=trust', '--no-sync', '-E', 'UTF8'], { ...as, stdio: 'ignore', cwd: dir });
  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=50', '-c', 'shared_buffers=32MB'],
    { ...as, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  let log = '';
  server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  // Ready when it says so on stderr (it logs there by default), or failed when it exits first.
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (log.includes('ready to accept connections')) {
        server.stderr!.off('data', check);
        server.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`postgres exited (${code}) before it was ready:\n${log}`));
    server.stderr!.on('data', check);
    server.once('exit', onExit);
  });
  return {
    connectionString: `postgres://troupe@127.0.0.1:${port}/postgres`,
    async stop() {
      if (server.exitCode === null) {
        const exited = once(server, 'exit');
        server.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
