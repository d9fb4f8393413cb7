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

async function launch(port: number, extra: string[] = []): Promise<ChildProcess> {
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
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

/** `args`: more nats-server flags, e.g. `['--user', 'a', '--pass', 'b']`. */
export async function startNats(args: string[] = []): Promise<NatsServer> {
  const port = await freePort();
  let server = await launch(port, args);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async restart() {
      await halt(server, 'SIGKILL');
      server = await launch(port, args);
    },
    async stop() {
      await halt(server, 'SIGTERM');
    },
  };
}

export interface NatsCluster {
  /** Every server's client URL. */
  urls: string[];
  /** Server `i`, killed (SIGKILL) and started again on its ports; it joins the others' routes again. */
  restart(i: number): Promise<void>;
  /** Server `i` killed (SIGKILL), to be started again by start(i). */
  kill(i: number): Promise<void>;
  /** Server `i` started again on its ports after kill(i). */
  start(i: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `size` nats-servers routed into one NATS cluster on 127.0.0.1 (each lists
 * the others' route ports), for failover tests: a client given every URL
 * moves to another server when its own dies. Resolves once every server is
 * ready; routes connect within a few hundred ms after that.
 */
export async function startNatsCluster(size: number): Promise<NatsCluster> {
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const argsOf = (i: number): string[] => [
    '--cluster_name',
    'troupe-test',
    '--cluster',
    `nats://127.0.0.1:${routePorts[i]}`,
    '--routes',
    routePorts
      .filter((_, j) => j !== i)
      .map((port) => `nats://127.0.0.1:${port}`)
      .join(','),
  ];
  const servers = await Promise.all(clientPorts.map((port, i) => launch(port, argsOf(i))));
  return {
    urls: clientPorts.map((port) => `nats://127.0.0.1:${port}`),
    async restart(i) {
      await halt(servers[i], 'SIGKILL');
      servers[i] = await launch(clientPorts[i], argsOf(i));
    },
    async kill(i) {
      await halt(servers[i], 'SIGKILL');
    },
    async start(i) {
      servers[i] = await launch(clientPorts[i], argsOf(i));
    },
    async stop() {
      await Promise.all(servers.map((server) => halt(server, 'SIGTERM')));
    },
  };
}
