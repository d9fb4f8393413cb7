// Run as: node --import tsx test/ts-app/main.ts — workers inherit --import tsx.
import { ActorSystem } from 'troupe';

const system = await ActorSystem.start({ workers: 1, logLevel: 'silent' });
const greeter = await system.spawn(new URL('./greeter.ts', import.meta.url), { args: { punctuation: '!' } });
const reply: string = await greeter.ask({ type: 'greet', who: 'typescript' });
console.log(JSON.stringify({ reply }));
await system.shutdown();
