/**
 * The gateway as the edge of a trace (a system started with `tracing`): each
 * request is a server span that continues the client's `traceparent` (a
 * malformed one is ignored: the request starts a trace of its own), the route
 * runs inside it, so the ask it makes carries it to the actor, and the
 * response says which trace and span served it in its own `traceparent`.
 */
import type { IncomingMessage } from 'node:http';
import type * as OtelApi from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent } from '../codec/trace-context.js';
import type { Otel } from '../host/tracing.js';

export interface RequestSpan {
  readonly span: OtelApi.Span;
  /** The context the route runs in: the span's. */
  readonly context: OtelApi.Context;
  /** What the response's `traceparent` header says (none when the span has no valid context). */
  readonly traceparent: string | undefined;
}

export class GatewayTracing {
  readonly #api: Otel;
  readonly #tracer: OtelApi.Tracer;

  constructor(api: Otel) {
    this.#api = api;
    this.#tracer = api.trace.getTracer('troupe/http');
  }

  begin(req: IncomingMessage, method: string): RequestSpan {
    const api = this.#api;
    const remote = parseTraceparent(req.headers.traceparent);
    const parent = remote === undefined ? api.ROOT_CONTEXT : api.trace.setSpanContext(api.ROOT_CONTEXT, remote);
    const span = this.#tracer.startSpan(method, { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
    // A thread without an SDK answers with the invalid (all-zero) context: no header then.
    const traceparent = api.isSpanContextValid(span.spanContext()) ? formatTraceparent(span.spanContext()) : undefined;
    return { span, context: api.trace.setSpan(parent, span), traceparent };
  }

  /** The request's route is known: the span is named after it (its pattern, never the raw path with its ids). */
  routed(request: RequestSpan, method: string, pattern: string, path: string): void {
    request.span.updateName(`${method} ${pattern}`);
    request.span.setAttributes({ 'http.route': pattern, 'url.path': path });
  }

  /** Runs `handle` inside the request's span context, so what it sends carries the trace. */
  within<T>(request: RequestSpan, handle: () => Promise<T>): Promise<T> {
    return this.#api.context.with(request.context, handle);
  }

  end(request: RequestSpan, status: number, failure: { code: string; message: string } | undefined): void {
    const span = request.span;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: failure === undefined ? undefined : `${failure.code}: ${failure.message}` });
    if (failure !== undefined) span.setAttribute('error.type', failure.code);
    span.end();
  }
}
