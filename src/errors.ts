/**
 * One error family. Every failure troupe reports is a `TroupeError` with a
 * stable `code`; callers match on `code`, never on `instanceof` alone, because
 * errors cross threads as data (see {@link errorToWire}).
 */
export class TroupeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidOptionError extends TroupeError {
  readonly option: string;
  constructor(option: string, expected: string, received: unknown) {
    super('TROUPE_ERR_INVALID_OPTION', `option "${option}" must be ${expected}, received ${describe(received)}`);
    this.option = option;
  }
}

export class InvalidArgumentError extends TroupeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_INVALID_ARGUMENT', message, options);
  }
}

export class AskTimeoutError extends TroupeError {
  constructor(target: string, timeoutMs: number) {
    super('TROUPE_ERR_ASK_TIMEOUT', `ask to ${target} got no reply within ${timeoutMs} ms`);
  }
}

export class ActorNotFoundError extends TroupeError {
  constructor(target: string) {
    super('TROUPE_ERR_ACTOR_NOT_FOUND', `actor ${target} does not exist or has stopped`);
  }
}

export class ActorStoppedError extends TroupeError {
  constructor(target: string, reason: string) {
    super('TROUPE_ERR_ACTOR_STOPPED', `actor ${target} stopped (${reason}) before it replied`);
  }
}

export class ActorCrashedError extends TroupeError {
  constructor(target: string, cause: unknown) {
    super('TROUPE_ERR_ACTOR_CRASHED', `actor ${target} crashed while handling the message: ${messageOf(cause)}`, { cause });
  }
}

export class ActorInitError extends TroupeError {
  constructor(target: string, cause: unknown) {
    super('TROUPE_ERR_ACTOR_INIT', `init of actor ${target} failed: ${messageOf(cause)}`, { cause });
  }
}

export class ModuleLoadError extends TroupeError {
  constructor(url: string, cause: unknown) {
    const hint = /ERR_UNKNOWN_FILE_EXTENSION/.test(String((cause as { code?: string })?.code))
      ? ' (a .ts actor module needs a loader: run node with --import tsx, or pass workerExecArgv)'
      : '';
    super('TROUPE_ERR_MODULE_LOAD', `actor module ${url} failed to load: ${messageOf(cause)}${hint}`, { cause });
  }
}

export class NotAnActorError extends TroupeError {
  constructor(url: string, exportName: string) {
    super('TROUPE_ERR_NOT_AN_ACTOR', `export "${exportName}" of ${url} is not an actor definition made by defineActor()`);
  }
}

export class NameTakenError extends TroupeError {
  constructor(name: string) {
    super('TROUPE_ERR_NAME_TAKEN', `an actor named "${name}" is already running`);
  }
}

export class UnencodableMessageError extends TroupeError {
  constructor(path: string, what: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_UNENCODABLE', `message cannot be sent: ${what} at ${path}`, options);
  }
}

export class PayloadTooLargeError extends TroupeError {
  /** `atLeast`: `bytes` is a lower bound (the sender refused without encoding the whole message). */
  constructor(bytes: number, limit: number, atLeast = false, holder = 'a lane holds at most', remedy = 'raise laneBytes') {
    super('TROUPE_ERR_PAYLOAD_TOO_LARGE', `encoded message is ${atLeast ? 'at least ' : ''}${bytes} bytes; ${holder} ${limit} (${remedy})`);
  }
}

export class MailboxFullError extends TroupeError {
  constructor(target: string, bound: number, where: 'lane' | 'mailbox' | 'lane-bytes' | 'entity' | 'link-bytes') {
    super(
      'TROUPE_ERR_MAILBOX_FULL',
      where === 'link-bytes'
        ? `${target} holds ${bound} bytes for other nodes that the NATS server has not taken yet (overflowBytes)`
        : where === 'entity'
        ? `${target} has ${bound} messages waiting for its activation already (entities.maxWaiting)`
        : where === 'lane'
        ? `lane to ${target} is full and its overflow holds ${bound} records already (overflowLimit)`
        : where === 'lane-bytes'
          ? `lane to ${target} is full and its overflow would hold more than ${bound} bytes (overflowBytes)`
          : `mailbox of ${target} holds ${bound} messages already (mailboxLimit)`,
    );
  }
}

export class DecodeError extends TroupeError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_DECODE', `record rejected: ${reason}`, options);
  }
}

export class SystemStoppedError extends TroupeError {
  constructor() {
    super('TROUPE_ERR_SYSTEM_STOPPED', 'the actor system is shutting down or has stopped');
  }
}

export class WorkerExitedError extends TroupeError {
  constructor(host: string, detail: string) {
    super('TROUPE_ERR_WORKER_EXITED', `worker ${host} exited (${detail})`);
  }
}

/** An error raised on purpose by troupe/chaos (a crashed actor, a poison message). */
export class ChaosFaultError extends TroupeError {
  constructor(message: string) {
    super('TROUPE_ERR_CHAOS_FAULT', message);
  }
}

export class TooManyActorsError extends TroupeError {
  constructor(limit: number) {
    super('TROUPE_ERR_TOO_MANY_ACTORS', `no actor slot left (limit ${limit} live actors)`);
  }
}

/** Two incarnations wrote the same journal: the second append finds its sequence numbers taken, and writes nothing. */
export class PersistenceConflictError extends TroupeError {
  readonly persistenceId: string;
  readonly seq: number;
  constructor(persistenceId: string, seq: number) {
    super('TROUPE_ERR_PERSISTENCE_CONFLICT', `journal "${persistenceId}" already has an event at sequence number ${seq}: another incarnation wrote it (nothing of this append was written)`);
    this.persistenceId = persistenceId;
    this.seq = seq;
  }
}

/** A stored event or snapshot fails its checksum or does not decode: the actor does not start. */
export class PersistenceCorruptError extends TroupeError {
  readonly persistenceId: string;
  readonly seq: number;
  constructor(persistenceId: string, seq: number, what: 'event' | 'snapshot', reason: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_PERSISTENCE_CORRUPT', `journal "${persistenceId}": the ${what} at sequence number ${seq} is corrupt (${reason})`, options);
    this.persistenceId = persistenceId;
    this.seq = seq;
  }
}

/** A stored event or snapshot was written by a newer `persistence.version` than the code knows. */
export class PersistenceVersionError extends TroupeError {
  readonly persistenceId: string;
  readonly seq: number;
  constructor(persistenceId: string, seq: number, what: 'event' | 'snapshot', storedVersion: number, codeVersion: number) {
    super(
      'TROUPE_ERR_PERSISTENCE_VERSION',
      `journal "${persistenceId}": the ${what} at sequence number ${seq} was written by version ${storedVersion}, newer than this code's version ${codeVersion}`,
    );
    this.persistenceId = persistenceId;
    this.seq = seq;
  }
}

/** The store failed (disk full, read-only file, server down or unreachable): nothing of the append is acknowledged. */
export class PersistenceStoreError extends TroupeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_PERSISTENCE_STORE', message, options);
  }
}

/** A persistent actor (or `system.entity`) in a system started without a `store`. */
export class PersistenceNotConfiguredError extends TroupeError {
  constructor(what: string) {
    super('TROUPE_ERR_PERSISTENCE_NOT_CONFIGURED', `${what} needs a journal: start the system with a store, e.g. ActorSystem.start({ store: sqliteStore({ path }) })`);
  }
}

export class NodeDownError extends TroupeError {
  readonly node: string;
  constructor(node: string, detail: string) {
    super('TROUPE_ERR_NODE_DOWN', `cluster node ${node} is down (${detail})`);
    this.node = node;
  }
}

export class ClusterUnavailableError extends TroupeError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_CLUSTER_UNAVAILABLE', `the cluster cannot be reached: ${detail}`, options);
  }
}

/** The form an error takes inside a record; plain data, safe to msgpack. */
export interface WireError {
  code: string;
  name: string;
  message: string;
  stack?: string;
  cause?: WireError;
}

/**
 * The wire form of any thrown value. Bounded (texts cut at a few KiB, three
 * causes deep), so an error can always cross a lane: an actor that throws a
 * huge message must not turn its crash report into an oversized record.
 */
export function errorToWire(error: unknown, depth = 0): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const wire: WireError = {
      code: typeof code === 'string' ? clip(code, 128) : 'TROUPE_ERR_HANDLER',
      name: clip(String(error.name), 128),
      message: clip(String(error.message), kMaxWireText),
    };
    if (typeof error.stack === 'string') wire.stack = clip(error.stack, kMaxWireText);
    if (error.cause !== undefined && depth < 3) wire.cause = errorToWire(error.cause, depth + 1);
    return wire;
  }
  return { code: 'TROUPE_ERR_HANDLER', name: 'Error', message: clip(messageOf(error), kMaxWireText) };
}

const kMaxWireText = 4096;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Rebuilds an error received from another thread; the code survives, the class is `TroupeError`. */
export function errorFromWire(wire: WireError): TroupeError {
  const cause = wire.cause === undefined ? undefined : errorFromWire(wire.cause);
  const error = new TroupeError(String(wire.code), String(wire.message), cause === undefined ? undefined : { cause });
  error.name = String(wire.name);
  if (typeof wire.stack === 'string') error.stack = wire.stack;
  return error;
}

export function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : `an object`;
  return `${typeof value} ${String(value)}`;
}
