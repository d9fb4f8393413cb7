// main.ts (run by the tests: npm run build && node dist/examples/reliable.js)
import { ActorSystem } from 'troupe';

const system = await ActorSystem.start({ workers: 2 });
const consumer = await system.spawn(new URL('./reliable/consumer.js', import.meta.url), { host: 1 });
const producer = await system.spawn(new URL('./reliable/producer.js', import.meta.url), { host: 0, args: { consumer } });
for (let amount = 1; amount <= 100; amount++) producer.tell({ amount });
console.log(await producer.ask({ type: 'flush' })); // 100: every message confirmed
console.log(await consumer.ask({ type: 'total' })); // 5050
await system.shutdown();
