// main.ts (run by the tests: npm run build && node dist/examples/quickstart.js)
import { ActorSystem } from 'troupe';

const system = await ActorSystem.start({ workers: 2 });
const counter = await system.spawn(new URL('./actors/counter.js', import.meta.url), { name: 'counter', args: { start: 0 } });
counter.tell({ type: 'inc' });
console.log(await counter.ask({ type: 'get' }, { timeoutMs: 1000 })); // 1
await system.shutdown();
