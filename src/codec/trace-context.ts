/**
 * W3C trace context as messages carry it (the `tracing` option): in a lane
 * record, 24 bytes after the payload (RECORD_FLAG_TRACED, the sampled bit in
 * RECORD_FLAG_SAMPLED); between actors of one host, a TracedMessage around
 * the message in its mailbox. Either way beside the user's message, never in
 * it. Shaped like @opentelemetry/api's SpanContext, so the host's tracing
 * hands it to the API as it is; this module does not need the API.
 */
import { RECORD_FLAG_SAMPLED, RECORD_FLAG_TRACED, RECORD_TRACE_BYTES } from '../lane/layout.js';

/** The parts of a span context that travel: @opentelemetry/api's SpanContext is one. */
export interface WireSpanContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** W3C trace-flags; bit 0: sampled. */
  traceFlags: number;
  /** Whether the context came from another thread, process or the network. */
  isRemote?: boolean;
}

/** A message and the span context it was sent in, while it stays on one host (mailboxes, the same-thread path). */
export class TracedMessage {
  readonly message: unknown;
  readonly context: WireSpanContext;

  constructor(message: unknown, context: WireSpanContext) {
    this.message = message;
    this.context = context;
  }
}

/** The message itself, with or without a trace context around it. */
export const untraced = (msg: unknown): unknown => (msg instanceof TracedMessage ? msg.message : msg);

/**
 * Writes span contexts as records carry them. The last one's bytes are kept:
 * a handler's messages all carry its span, so a stream of them parses the
 * hex ids once.
 */
export class TraceContextWriter {
  #last: WireSpanContext | undefined = undefined;
  readonly #lastBytes = Buffer.alloc(RECORD_TRACE_BYTES);

  /** Writes the context's ids at `at` and returns the record flags that say so. */
  write(bytes: Buffer, at: number, context: WireSpanContext): number {
    if (context !== this.#last) {
      writeIds(this.#lastBytes, 0, context);
      this.#last = context;
    }
    const last = this.#lastBytes;
    for (let i = 0; i < RECORD_TRACE_BYTES; i++) bytes[at + i] = last[i]!;
    return (context.traceFlags & 1) !== 0 ? RECORD_FLAG_TRACED | RECORD_FLAG_SAMPLED : RECORD_FLAG_TRACED;
  }
}

/**
 * Reads a record's context: `at` is where its payload ends. The last context
 * read is kept and handed out again when the next record's bytes are the same
 * (a handler's messages all carry its span), so a stream of one trace
 * allocates no strings.
 */
export class TraceContextReader {
  #last: WireSpanContext | undefined = undefined;
  readonly #lastBytes = Buffer.alloc(RECORD_TRACE_BYTES);
  #lastFlags = 0;

  read(bytes: Buffer, at: number, kindWord: number): WireSpanContext {
    const flags = kindWord & RECORD_FLAG_SAMPLED;
    const last = this.#last;
    if (last !== undefined && flags === this.#lastFlags && this.#sameAsLast(bytes, at)) return last;
    const lastBytes = this.#lastBytes;
    for (let i = 0; i < RECORD_TRACE_BYTES; i++) lastBytes[i] = bytes[at + i]!;
    const context = readIds(bytes, at, flags === 0 ? 0 : 1);
    this.#last = context;
    this.#lastFlags = flags;
    return context;
  }

  // A loop: 24 bytes are fewer than a native compare's call costs.
  #sameAsLast(bytes: Buffer, at: number): boolean {
    const last = this.#lastBytes;
    for (let i = RECORD_TRACE_BYTES - 1; i >= 0; i--) if (bytes[at + i] !== last[i]) return false;
    return true;
  }
}

/** Bytes of a context in a cluster frame: trace id, span id, trace-flags. */
export const kFrameTraceContextBytes = RECORD_TRACE_BYTES + 1;

/** A context as a cluster frame's record carries it (a msgpack bin field after the message). */
export function traceContextBytes(context: WireSpanContext): Uint8Array {
  const bytes = Buffer.allocUnsafe(kFrameTraceContextBytes);
  writeIds(bytes, 0, context);
  bytes[RECORD_TRACE_BYTES] = context.traceFlags & 1;
  return bytes;
}

/** The context of a frame's record, or undefined when it has none or it is not a valid one (ignored, as a malformed traceparent). */
export function traceContextOf(bytes: unknown): WireSpanContext | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length !== kFrameTraceContextBytes) return undefined;
  const context = readIds(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), 0, bytes[RECORD_TRACE_BYTES]! & 1);
  return context.traceId === kZeroTrace || context.spanId === kZeroSpan ? undefined : context;
}

/** The trace id (16 bytes) and span id (8) of a context at `at`, as lanes and frames carry them. */
function writeIds(bytes: Buffer, at: number, context: WireSpanContext): void {
  bytes.write(context.traceId, at, 16, 'hex');
  bytes.write(context.spanId, at + 16, 8, 'hex');
}

function readIds(bytes: Buffer, at: number, traceFlags: number): WireSpanContext {
  return { traceId: bytes.toString('hex', at, at + 16), spanId: bytes.toString('hex', at + 16, at + RECORD_TRACE_BYTES), traceFlags, isRemote: true };
}

const kTraceparent = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const kZeroTrace = '0'.repeat(32);
const kZeroSpan = '0'.repeat(16);

/**
 * An HTTP `traceparent` header as W3C Trace Context level 1 reads it, or
 * undefined when it is absent or malformed (a malformed one is ignored, never
 * an error: the request starts a trace of its own). Version ff is invalid;
 * version 00 has exactly four fields; a later version may append more.
 */
export function parseTraceparent(header: string | string[] | undefined): WireSpanContext | undefined {
  if (typeof header !== 'string' || header.length > 512) return undefined;
  const match = kTraceparent.exec(header.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === kZeroTrace || spanId === kZeroSpan) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0xff, isRemote: true };
}

/** The `traceparent` header (version 00) of a span context. */
export const formatTraceparent = (context: WireSpanContext): string =>
  `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 1) !== 0 ? '01' : '00'}`;
