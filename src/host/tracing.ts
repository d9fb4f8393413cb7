/**
 * OpenTelemetry traces of a host (the `tracing` option): a span for each
 * message handled, its handler run inside that span's context, and the span
 * context of whatever sends a message carried with the message (see
 * codec/trace-context.ts). Only through `@opentelemetry/api`: which SDK,
 * sampler and exporter record the spans is the application's choice, made on
 * each thread (the main thread's setup, and a `workerPreload` module for the
 * workers). Without the option none of this is loaded or called.
 *
 * Sampling is decided once, where a message enters with no trace (the
 * application's sampler, asked by startSpan); a message of an unsampled trace
 * runs in its parent's context without asking again and without a span, so the
 * decision holds through every hop, as a parent-based sampler would keep it.
 */
import { threadId } from 'node:worker_threads';
import type * as OtelApi from '@opentelemetry/api';
import type { Cell } from '../actor/cell.js';
import type { ActorDefinition } from '../actor/define-actor.js';
import { Kind, kindOf } from '../codec/envelope.js';
import { TracedMessage, type WireSpanContext } from '../codec/trace-context.js';
import { InvalidOptionError } from '../errors.js';
import type { Definitions } from './definitions.js';
import type { HostName } from '../actor/context.js';

export type Otel = typeof OtelApi;
export type HandlerSpan = OtelApi.Span;

/** Imports `@opentelemetry/api`, the optional peer the `tracing` option needs. */
export async function loadOtel(): Promise<Otel> {
  try {
    return await import('@opentelemetry/api');
  } catch {
    throw new InvalidOptionError('tracing', 'false, or true with the @opentelemetry/api package installed beside troupe (npm install @opentelemetry/api)', true);
  }
}

const kProbeKey = Symbol('troupe.context-manager-probe');
/** Sends without an active span between two checks for a context manager. */
const kProbeEvery = 4096;

/** Longest message `type` a span's name takes in full: names are for grouping, not for payloads. */
const kMaxTypeChars = 64;

export class HostTracing {
  readonly #api: Otel;
  readonly #tracer: OtelApi.Tracer;
  readonly #definitions: Definitions;
  readonly #hostName: string;
  /** What a span of each definition is called: its module's file name, and the export when not the default. */
  readonly #moduleNames = new WeakMap<ActorDefinition, string>();
  // The context last made for an unsampled parent: a stream of messages of one span needs one.
  #lastParent: WireSpanContext | undefined = undefined;
  #lastContext: OtelApi.Context | undefined = undefined;

  readonly #onError: (error: unknown) => void;

  /** `onError`: the application's tracing SDK threw (reported once; the runtime goes on untraced where it did). */
  constructor(api: Otel, definitions: Definitions, hostName: HostName, onError: (error: unknown) => void) {
    this.#api = api;
    this.#onError = onError;
    this.#tracer = api.trace.getTracer('troupe');
    this.#definitions = definitions;
    this.#hostName = String(hostName);
  }

  /**
   * The message as it is sent now: with the span context active here (a
   * handler's span, or the application's own around a `tell`), else that of
   * the message the sending actor handles (a thread without a context
   * manager), else as it is.
   */
  outgoing(msg: unknown, sender: Cell | undefined): unknown {
    if (msg instanceof TracedMessage) return msg;
    const context = this.current(sender);
    return context === undefined ? msg : new TracedMessage(msg, context);
  }

  /**
   * The span context a message or reply sent now carries. With a context
   * manager, what is active decides: no span there (the application's
   * `context.with(ROOT_CONTEXT, ...)`, say) starts a trace of its own. Without
   * one (nothing is ever active), the sending actor's message's.
   */
  current(sender: Cell | undefined): WireSpanContext | undefined {
    const api = this.#api;
    const active = api.trace.getSpanContext(api.context.active());
    if (active !== undefined) {
      // A span keeps one context object: a handler's sends check it once.
      if (active === this.#lastValid) return active;
      if (api.isSpanContextValid(active)) {
        this.#lastValid = active;
        return active;
      }
    }
    if (this.#arriving !== undefined) return this.#arriving;
    if (this.#keepsContexts()) return undefined;
    return sender?.curSpanContext;
  }

  /**
   * Runs `fn` as sent in `context`: what it sends carries it (a message from
   * another node on its way to an actor here). Active for your
   * instrumentation too, and also where no context manager is registered.
   */
  within(context: WireSpanContext, fn: () => void): void {
    const previous = this.#arriving;
    this.#arriving = context;
    try {
      const api = this.#api;
      api.context.with(api.trace.setSpanContext(api.ROOT_CONTEXT, context), fn);
    } finally {
      this.#arriving = previous;
    }
  }

  #arriving: WireSpanContext | undefined = undefined;

  /** Runs `fn` outside any trace: what it sends starts traces of its own (a schedule's tick, whatever context made the schedule). */
  detached(fn: () => void): void {
    const previous = this.#arriving;
    this.#arriving = undefined;
    try {
      this.#api.context.with(this.#api.ROOT_CONTEXT, fn);
    } finally {
      this.#arriving = previous;
    }
  }

  /** Whether a context manager is registered: asked again every so often, since the application may register one after start. */
  #keepsContexts(): boolean {
    if (--this.#probeCountdown > 0) return this.#managed;
    this.#probeCountdown = kProbeEvery;
    const api = this.#api;
    const probe = api.ROOT_CONTEXT.setValue(kProbeKey, true);
    this.#managed = api.context.with(probe, () => api.context.active() === probe);
    return this.#managed;
  }

  #lastValid: OtelApi.SpanContext | undefined = undefined;
  #probeCountdown = 0;
  #managed = false;

  /**
   * Runs one message's handler (`run`, the runner's) inside the context of
   * its trace, with a span of its own when the trace is sampled; the runner
   * ends the span when the handler settles (see ended).
   */
  invoke(cell: Cell, kindWord: number, msg: unknown, run: (span: HandlerSpan | undefined, message: unknown, context: WireSpanContext | undefined) => void): void {
    const api = this.#api;
    let parent: WireSpanContext | undefined;
    let message = msg;
    if (msg instanceof TracedMessage) {
      parent = msg.context;
      message = msg.message;
    }
    if (parent !== undefined && (parent.traceFlags & 1) === 0) {
      cell.curSpanContext = parent;
      if (parent !== this.#lastParent) {
        this.#lastParent = parent;
        this.#lastContext = api.trace.setSpanContext(api.ROOT_CONTEXT, parent);
      }
      api.context.with(this.#lastContext!, run, undefined, undefined, message, parent);
      return;
    }
    const parentContext = parent === undefined ? api.ROOT_CONTEXT : api.trace.setSpanContext(api.ROOT_CONTEXT, parent);
    let span: OtelApi.Span;
    try {
      span = this.#start(cell, kindWord, message, parentContext);
    } catch (error) {
      // The application's SDK (a sampler, a span processor) threw: the message is handled all the same, untraced.
      this.#failed(error);
      cell.curSpanContext = parent;
      run(undefined, message, parent);
      return;
    }
    const context = span.spanContext();
    // An SDK-less thread answers with the invalid (all-zero) context: nothing to carry on.
    const carried = context === parent || api.isSpanContextValid(context) ? context : undefined;
    cell.curSpanContext = carried;
    api.context.with(api.trace.setSpan(parentContext, span), run, undefined, span.isRecording() ? span : undefined, message, carried);
  }

  #start(cell: Cell, kindWord: number, message: unknown, parentContext: OtelApi.Context): OtelApi.Span {
    const api = this.#api;
    const ask = kindOf(kindWord) === Kind.ask;
    const type = messageType(message, ask);
    const actor = cell.name ?? this.#moduleName(cell);
    const span = this.#tracer.startSpan(`${actor} ${type}`, { kind: ask ? api.SpanKind.SERVER : api.SpanKind.CONSUMER }, parentContext);
    // Attributes only on spans that are kept: most roots of a ratio sampler are not.
    if (span.isRecording()) {
      span.setAttributes({
        'messaging.system': 'troupe',
        'messaging.operation.type': 'process',
        'troupe.actor.id': cell.id,
        'troupe.actor.name': cell.name,
        'troupe.actor.module': this.#moduleName(cell),
        'troupe.message.type': type,
        'troupe.host': this.#hostName,
        'thread.id': threadId,
      });
    }
    return span;
  }

  /**
   * A handler settled: its span ends (failed when it threw or rejected), and
   * its actor no longer lends its context to what is sent on its behalf. Never
   * throws: an SDK that does is logged once, and the runtime goes on.
   */
  settled(cell: Cell, span: HandlerSpan | undefined, context: WireSpanContext | undefined, error?: unknown): void {
    if (cell.curSpanContext === context) cell.curSpanContext = undefined;
    if (span === undefined) return;
    try {
      if (error !== undefined) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    } catch (failure) {
      this.#failed(failure);
    }
  }

  #failed(error: unknown): void {
    if (this.#reportedFailure) return;
    this.#reportedFailure = true;
    this.#onError(error);
  }

  #reportedFailure = false;

  #moduleName(cell: Cell): string {
    const definition = cell.def;
    if (definition === undefined) return 'actor';
    let name = this.#moduleNames.get(definition);
    if (name === undefined) {
      const source = this.#definitions.sourceOf(definition);
      const file = source === undefined ? 'actor' : (source.u.split(/[/\\]/).pop() ?? source.u).replace(/\.[cm]?[jt]sx?$/, '');
      name = source === undefined || source.e === 'default' ? file : `${file}#${source.e}`;
      this.#moduleNames.set(definition, name);
    }
    return name;
  }
}

/** A message's `type` when it has a string one; else what kind of message it is (never its content: a string message may be anything). */
function messageType(message: unknown, ask: boolean): string {
  const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && type.length > 0) return type.length > kMaxTypeChars ? type.slice(0, kMaxTypeChars) : type;
  return ask ? 'ask' : 'tell';
}

/**
 * Exports what this thread's tracer provider still holds (a batch processor's
 * queue): a worker does it before it ends, since the application that
 * registered the provider in a preload cannot. At most `timeoutMs`.
 */
export async function flushSpans(api: Otel, timeoutMs: number): Promise<void> {
  const provider = api.trace.getTracerProvider() as { getDelegate?(): unknown; forceFlush?(): Promise<void> };
  const target = (provider.getDelegate?.() ?? provider) as { forceFlush?(): Promise<void> };
  if (typeof target.forceFlush !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    target.forceFlush().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}
