// The OpenTelemetry SDK as an application would set it up on each thread
// (imported by the tracing benchmark's child on main, and as a workerPreload
// on every worker): parent-based sampling at TROUPE_BENCH_SAMPLE_RATIO, spans
// batched to an exporter that counts and drops them (what is measured is the
// runtime's cost, not a network's).
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Spans recorded on this thread so far. */
export let exportedSpans = 0;

const discard: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    exportedSpans += spans.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};

const ratio = process.env.TROUPE_BENCH_SAMPLE_RATIO;
if (ratio !== undefined) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(Number(ratio)) }),
      spanProcessors: [new BatchSpanProcessor(discard, { maxQueueSize: 65_536, maxExportBatchSize: 4096, scheduledDelayMillis: 200 })],
    }),
  );
}
