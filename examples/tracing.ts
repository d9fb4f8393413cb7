// Traces of messages: the application registers an OpenTelemetry SDK (here an
// in-memory exporter; OTLP in production), starts the system with `tracing`,
// and every message handled is a span under the one it was sent in.
// Run: npm run build && node dist/examples/tracing.js
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ActorSystem } from 'troupe';

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

// workers: 0 keeps this example on one thread; with workers, each one sets up
// its SDK in a workerPreload module (see docs/guide/observability.md).
const system = await ActorSystem.start({ workers: 0, tracing: true });
const counter = await system.spawn(new URL('./actors/counter.js', import.meta.url), { name: 'counter', args: { start: 0 } });
const desk = await system.spawn(new URL('./actors/front-desk.js', import.meta.url), { name: 'desk' });

await trace.getTracer('hotel-app').startActiveSpan('checkin request', async (span) => {
  await desk.ask({ type: 'checkin', counter });
  span.end();
});
await system.shutdown();

// The trace as a tree: each span under its parent, in the order they started.
const spans = exporter.getFinishedSpans();
const time = (s: ReadableSpan): number => s.startTime[0] * 1e9 + s.startTime[1];
function print(parent: string | undefined, depth: number): void {
  for (const span of spans.filter((s) => s.parentSpanContext?.spanId === parent).sort((a, b) => time(a) - time(b))) {
    console.log(`${'  '.repeat(depth)}${span.name}`);
    print(span.spanContext().spanId, depth + 1);
  }
}
print(undefined, 0);
