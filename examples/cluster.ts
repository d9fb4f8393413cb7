// cluster.ts: three nodes on this machine over one nats-server on loopback (run by the tests:
// npm run build && node dist/examples/cluster.js). Needs nats-server on the PATH (apt-get install nats-server).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ActorSystem } from 'troupe';

const fast = { heartbeatMs: 100, suspectAfterMs: 500, downAfterMs: 1000 }; // the defaults are 200 / 1000 / 2000
const [role, servers, node] = process.argv.slice(2);

if (role === 'node') {
  // A node process: joins, says so, and serves until its stdin closes.
  process.env.DEMO_NODE = node;
  const system = await ActorSystem.start({ workers: 1, cluster: { servers, name: 'demo', node, ...fast } });
  console.log('up');
  process.stdin.resume().on('end', () => void system.shutdown());
} else {
  // nats-server on a free port of its choosing (-1); it logs the port, then that it is ready.
  const nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let port = '';
  for await (const line of createInterface({ input: nats.stderr! })) {
    port ||= /client connections on [\d.]+:(\d+)/.exec(line)?.[1] ?? '';
    if (line.includes('Server is ready')) break;
  }
  nats.stderr!.resume();
  const url = `nats://127.0.0.1:${port}`;

  const startNode = async (name: string): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'node', url, name], { stdio: ['pipe', 'pipe', 'inherit'] });
    for await (const line of createInterface({ input: child.stdout! })) if (line === 'up') break;
    return child;
  };
  process.env.DEMO_NODE = 'n1';
  const system = await ActorSystem.start({ workers: 1, cluster: { servers: url, name: 'demo', node: 'n1', ...fast } });
  const [n2, n3] = await Promise.all([startNode('n2'), startNode('n3')]);
  await Promise.all([system.cluster.whenUp('n2'), system.cluster.whenUp('n3')]);
  console.log('nodes:', system.cluster.nodes().map((n) => n.node).join(' '));

  const greeter = new URL('./actors/greeter.js', import.meta.url);
  const remote = await system.spawn(greeter, { node: 'n2', name: 'greeter-7' }); // remote spawn
  console.log(await remote.ask({ type: 'hello', from: 'n1' }));
  const found = await system.cluster.lookup('greeter-7'); // names across nodes
  console.log('found greeter-7 on', found?.node);

  const user = system.entity(greeter, 'user-1234'); // placed by the ring over n1, n2, n3
  console.log(await user.ask({ type: 'hello', from: 'n1' }));
  n3.kill('SIGKILL');
  const down = await system.cluster.events.waitFor('nodeDown', (e) => e.node === 'n3');
  console.log('n3 down:', down.reason);
  console.log(await user.ask({ type: 'hello', from: 'n1' })); // reactivated on a survivor

  await system.shutdown();
  n2.stdin!.end();
  await once(n2, 'exit');
  nats.kill();
}
