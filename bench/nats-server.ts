/**
 * A real NATS server for tests and benchmarks: Debian's `nats-server`
 * binary, listening on 127.0.0.1 on a free port, no persistence. Stopped by
 * stop(); restart() kills it (SIGKILL: what it held is lost, as in a crash)
 * and starts it again on the same port (clients reconnect to it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './free-port.js';

export interface NatsServer {
  url: string;
  port: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function launch(port: number): Promise<ChildProcess> {
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        server.stderr!.off('data', onData);
        server.off('exit', onExit);
        server.off('error', onError);
        server.stderr!.resume();
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`nats-server exited (${code}) before it was ready:\n${log}`));
    const onError = (error: Error): void => reject(new Error(`nats-server could not start (apt-get install nats-server): ${error.message}`));
    server.stderr!.on('data', onData);
    server.once('exit', onExit);
    server.once('error', onError);
  });
  return server;
}

async function halt(server: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill(signal);
  await exited;
}

export async function startNats(): Promise<NatsServer> {
  const port = await freePort();
  let server = await launch(port);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async restart() {
      await halt(server, 'SIGKILL');
      server = await launch(port);
    },
    async stop() {
      await halt(server, 'SIGTERM');
    },
  };
}
