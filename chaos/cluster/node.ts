/**
 * One node of a cluster scenario, in a process of its own so the harness can
 * SIGKILL it: a troupe system with the `cluster` option over nats-server and
 * a PostgreSQL journal shared by every node, so a durable entity that moves
 * to a survivor comes back there from the journal.
 *
 * Usage: node node.js <role> <node> <nats urls,> <cluster> <pg url> <ledgers> <workers> [members,]
 *   role front:    the client's way in. Waits until every member is up, then
 *                  `add <ledger> <k>` asks entity `ledger-<ledger>` (placed
 *                  on the ring over all nodes) to append k, and prints
 *                  `ok <ledger> <k>` once its persist resolved, or
 *                  `fail <ledger> <k> <code>`; prints every membership event
 *                  as `event <type> <node> <incarnation> [reason]`.
 *   role member:   a node that only hosts entities.
 *   role verifier: no cluster: reads every ledger from the journal (`read`
 *                  prints `read <json: k[] per ledger>`).
 *   every role:    `isolate on|off` (cut off from NATS, both ways), `stop`;
 *                  prints `ready <ms from process start>` once started.
 */
import { ActorSystem, kInternals } from 'troupe';
import { postgresStore } from 'troupe/persistence';
import { out, serveLedgerLines } from '../process/ledger-lines.js';

const [role, node, urls, cluster, connectionString, ledgerCount, workerCount, memberList] = process.argv.slice(2);
const ledgers = Number(ledgerCount);
/** An ask the front gives up on (a frame lost with a NATS server, a node cut off): the client sees a typed failure, never silence. */
const kAskTimeoutMs = 5000;
const url = new URL('../process/ledger.js', import.meta.url);
const system = await ActorSystem.start({
  workers: Number(workerCount),
  logLevel: 'silent',
  store: postgresStore({ connectionString: connectionString! }),
  ...(role === 'verifier' ? {} : { cluster: { servers: urls!.split(','), name: cluster!, node: node! } }),
});
const refs = Array.from({ length: ledgers }, (_, i) => system.entity(url, `ledger-${i}`));
if (role === 'front') {
  system.cluster!.events.onAny((e) => {
    // Membership only: this node's own disconnected/reconnected name a server, not a node.
    if ('node' in e) out(`event ${e.type} ${e.node} ${e.incarnation}${'reason' in e ? ` ${e.reason}` : ''}`);
  });
  const members = memberList === undefined || memberList === '' ? [] : memberList.split(',');
  await Promise.all(members.map((m) => system.cluster!.whenUp(m, { timeoutMs: 30_000 })));
}
out(`ready ${Math.round(performance.now())}`);

await serveLedgerLines(refs, kAskTimeoutMs, (word, arg) => {
  if (word === 'isolate') system[kInternals].isolateNode(arg === 'on');
});
await system.shutdown();
