// main.ts (run by the tests: npm run build && node dist/examples/gateway.js)
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ActorSystem } from 'troupe';
import { createAuth, createGateway, schedule } from 'troupe/http';

// The main thread serves HTTP; by default it does not spin for replies (mainSpinMicros: 0).
const system = await ActorSystem.start({ workers: 2 });

const auth = createAuth({
  // In production both secrets come from your secret store; random ones here invalidate tokens and keys at restart.
  jwt: { secret: process.env.JWT_SECRET ?? randomBytes(32), issuer: 'https://id.example.com', audience: 'orders-api' },
  pepper: process.env.API_KEY_PEPPER ?? randomBytes(32),
});
const gateway = createGateway(system, { auth, logger: pino({ level: 'warn' }) });
// Under a supervisor of its own: requests that crash it spend its budget (10 restarts in 5 s), not the root's.
await gateway.spawn(new URL('./actors/orders.js', import.meta.url), { name: 'orders', maxRestarts: 10, withinMs: 5000 });
gateway
  .route({ method: 'POST', path: '/orders', actor: 'orders', message: (r) => ({ type: 'place', order: r.body, by: r.principal?.subject }), respond: (id) => ({ status: 201, body: { id } }) })
  .route({ method: 'GET', path: '/orders/:id', actor: 'orders', message: (r) => ({ type: 'get', id: Number(r.params.id) }) });
const { url } = await gateway.listen({ port: Number(process.env.PORT ?? 0) }); // 0: any free port, on 127.0.0.1

schedule(system, '0 */5 * * * *', 'orders', { type: 'expire-stale' }); // every 5 minutes, on node-cron; by name, revivals too
process.once('SIGTERM', () => void gateway.shutdown({ drainMs: 5000 })); // readiness off, drain, close, stop

// A client with an API key of the operator role (the key is shown once; only its hash is kept).
const { key } = auth.createApiKey('operator', { subject: 'till-7' });
const headers = { 'x-api-key': key, 'content-type': 'application/json' };
const placed = await fetch(`${url}/orders`, { method: 'POST', headers, body: JSON.stringify({ item: 'tea', qty: 2 }) });
console.log(placed.status, await placed.text()); // 201 {"id":1}
const order = await fetch(`${url}/orders/1`, { headers: { 'x-api-key': key } });
console.log(order.status, ((await order.json()) as { by: string }).by); // 200 till-7
await gateway.shutdown();
