/**
 * createAgents(system, { providers }): the agents layer of one system. It
 * starts each provider as an actor (`troupe.provider/<name>`), the hub on
 * main (`troupe.agents`), and then resumes every run the store says is
 * unfinished, a bounded number at a time (a restart after a crash with
 * 10,000 runs in flight must not start 10,000 recoveries at once).
 *
 * A run is a durable actor `troupe.run/<id>`; `start` with an id that was
 * started before returns that run (idempotent), running or not.
 */
import { randomUUID } from 'node:crypto';
import type { ActorRef } from '../actor/ref.js';
import { moduleHref } from '../host/arguments.js';
import { InvalidArgumentError, InvalidOptionError, NameTakenError } from '../errors.js';
import type { Secrets } from '../secrets/secrets.js';
import type { ActorSystem } from '../system/actor-system.js';
import type { ConversationMessage } from './conversation-actor.js';
import { conversationSpawn, type ConversationSpawnOptions } from './conversation.js';
import { isWorkflowDefinition } from './define-workflow.js';
import { newSealKey, seal } from './key-seal.js';
import { RunNotFoundError, WorkflowCancelledError, WorkflowDefinitionError, WorkflowFailedError } from './errors.js';
import type { HubMessage, RunEntry } from './hub-actor.js';
import type { ProviderLedger } from './provider-actor.js';
import { isProviderSpec, type ProviderSpec } from './provider-spec.js';
import { RunEvents, type RunEventBase } from './run-events.js';
import { runEventSinks } from './run-listeners.js';
import type { RunSummary, WorkflowArgs, WorkflowMessage } from './workflow-actor.js';

export interface AgentsOptions {
  /** Providers by the name steps call them with: `openai({...})`, `anthropic({...})`. */
  providers?: Record<string, ProviderSpec>;
  /** Runs resumed at once after a restart. @default 32 */
  resumeConcurrency?: number;
  /** How long a finished run's actor stays up after the last question about it (its journal stays for good). @default 60000 */
  keepFinishedMs?: number;
  /** Where providers' `apiKeySecret` names are read (and followed as they rotate). */
  secrets?: Secrets;
  /** A rotated key that could not be handed to its provider (the old key stays in use). @default ignored */
  onError?: (error: Error) => void;
}

export interface StartOptions {
  /** Makes start idempotent: a run with this id that exists is returned as it is. @default a random UUID */
  id?: string;
  /** The export of the module that holds the workflow. @default 'default' */
  export?: string;
}

const kProviderActor = new URL('./provider-actor.js', import.meta.url);
const kHubActor = new URL('./hub-actor.js', import.meta.url);
const kStepRunner = new URL('./step-runner-actor.js', import.meta.url);
const kWorkflowActor = new URL('./workflow-actor.js', import.meta.url);
const kAskMs = 30_000;

const runName = (id: string): string => `troupe.run/${id}`;
/** What an ask meets when the run's actor is ending just then. */
const kEnding = new Set(['TROUPE_ERR_ACTOR_STOPPED', 'TROUPE_ERR_ACTOR_NOT_FOUND', 'TROUPE_ERR_NAME_TAKEN']);
/** Marks an activation of a run that has a journal (no input to start it with). */
const kResumed = Symbol('resumed');

export class Run {
  readonly id: string;
  readonly events = new RunEvents();
  readonly #agents: Agents;

  /** @internal */
  constructor(agents: Agents, id: string) {
    this.#agents = agents;
    this.id = id;
  }

  /** The run's state from its journal: status, each step's status and attempt, results, usage. */
  async status(): Promise<RunSummary> {
    return this.#askAgain<RunSummary>({ type: 'status' });
  }

  /**
   * For questions that may be asked twice (status, cancel): a finished run's actor that ends (idle after
   * keepFinishedMs) just as the question reaches it is activated again from its journal and asked again.
   */
  async #askAgain<T>(msg: WorkflowMessage): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const ref = await this.#agents.ensureRunning(this.id);
        return await ref.ask<T>(msg, { timeoutMs: kAskMs });
      } catch (error) {
        // Its name stays taken until the ending actor is gone: give that a moment, a little longer each time.
        const code = (error as { code?: string }).code;
        if (attempt >= 20 || !kEnding.has(code ?? '')) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, attempt * 2)));
      }
    }
  }

  /** Delivers a signal to `step.waitFor(name)` (journaled first; kept if the wait has not begun). False once the run has ended. */
  async signal(name: string, payload?: unknown): Promise<boolean> {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('a signal needs a name');
    const ref = await this.#agents.ensureRunning(this.id);
    return ref.ask<boolean>({ type: 'signal', name, payload }, { timeoutMs: kAskMs });
  }

  /** Every step's result by id once the run finishes; rejects (WorkflowFailedError, WorkflowCancelledError) if it does not. */
  async result(): Promise<Record<string, unknown>> {
    // Listen before asking, so an end between the answer and the wait is not missed; stop listening either way.
    let off = (): void => {};
    const ended = new Promise<void>((resolve) => (off = this.events.on('ended', () => resolve())));
    let summary: RunSummary;
    try {
      summary = await this.status();
      if (summary.status === 'running' || summary.status === 'new') {
        await ended;
        summary = await this.status();
      }
    } finally {
      off();
    }
    if (summary.status === 'finished') return summary.results;
    if (summary.status === 'cancelled') throw new WorkflowCancelledError(this.id);
    throw new WorkflowFailedError(this.id, summary.error?.step ?? '?', `${summary.error?.code ?? ''} ${summary.error?.message ?? ''}`.trim());
  }

  /** Ends the run as cancelled: running steps and waits are aborted, in-flight llm calls cancelled at their provider. */
  async cancel(): Promise<RunSummary> {
    return this.#askAgain<RunSummary>({ type: 'cancel' });
  }
}

export class Agents {
  readonly system: ActorSystem;
  /** Resolves once the providers and the hub run and the unfinished runs have been resumed. */
  readonly ready: Promise<void>;
  readonly #token = randomUUID();
  readonly #options: Required<Pick<AgentsOptions, 'resumeConcurrency' | 'keepFinishedMs'>>;
  readonly #specs: Record<string, ProviderSpec>;
  readonly #runs = new Map<string, Run>();
  readonly #starting = new Map<string, Promise<ActorRef<WorkflowMessage>>>();
  #providers: Record<string, ActorRef> = {};
  #hub: ActorRef<HubMessage> | undefined;
  /** One per worker, for steps with `spread`. */
  #runners: ActorRef[] = [];
  readonly #secrets: Secrets | undefined;
  /** Seals rotated keys on their way to the provider actors (key-seal.ts). */
  readonly #sealKey = newSealKey();
  /** The keys rotated since start, by provider: a restarted provider gets its key again. */
  readonly #rotatedKeys = new Map<string, string>();
  readonly #onError: ((error: Error) => void) | undefined;

  /** @internal use createAgents */
  constructor(system: ActorSystem, options: AgentsOptions) {
    this.system = system;
    this.#specs = checkProviders(options.providers);
    for (const [name, spec] of Object.entries(this.#specs)) {
      if (spec.apiKeySecret !== undefined && options.secrets === undefined) throw new InvalidOptionError(`providers.${name}.apiKeySecret`, 'used with the createAgents option "secrets"', spec.apiKeySecret);
    }
    this.#secrets = options.secrets;
    this.#onError = options.onError;
    const resumeConcurrency = options.resumeConcurrency ?? 32;
    if (!Number.isInteger(resumeConcurrency) || resumeConcurrency < 1) throw new InvalidOptionError('resumeConcurrency', 'a positive integer', resumeConcurrency);
    const keepFinishedMs = options.keepFinishedMs ?? 60_000;
    if (!(typeof keepFinishedMs === 'number' && keepFinishedMs > 0 && keepFinishedMs <= 2 ** 31 - 1)) throw new InvalidOptionError('keepFinishedMs', 'a positive number of ms', keepFinishedMs);
    this.#options = { resumeConcurrency, keepFinishedMs };
    runEventSinks.set(this.#token, (run, event) => this.#runs.get(run)?.events.dispatch(event as RunEventBase));
    this.ready = this.#boot();
    this.ready.catch(() => {}); // reported by every method that awaits it
  }

  async #boot(): Promise<void> {
    const entries = await Promise.all(
      Object.entries(this.#specs).map(async ([name, spec]) => {
        const secret = spec.apiKeySecret;
        const resolved = secret === undefined ? spec : { ...spec, apiKey: await this.#secrets!.get(secret) };
        const options = { name: `troupe.provider/${name}`, args: { name, spec: resolved, sealKey: this.#sealKey }, ...(spec.host === undefined ? {} : { host: spec.host }) };
        return [name, await spawnOrFind(this.system, kProviderActor, options)] as const;
      }),
    );
    this.#providers = Object.fromEntries(entries);
    for (const [name, spec] of Object.entries(this.#specs)) {
      if (spec.apiKeySecret === undefined) continue;
      await this.#secrets!.watch(spec.apiKeySecret, (apiKey) => this.rotateApiKey(name, apiKey).catch((error: Error) => this.#onError?.(error)));
    }
    // A provider restarted by its supervisor starts from its spawn arguments, the key it was born with: hand it
    // the rotated one again. (The listener lives as long as the system: the agents layer has no end of its own.)
    this.system.events.on('actor.restarted', (event) => {
      const provider = event.name?.startsWith('troupe.provider/') ? event.name.slice('troupe.provider/'.length) : undefined;
      const key = provider === undefined ? undefined : this.#rotatedKeys.get(provider);
      if (key !== undefined) void this.#sendKey(provider!, key).catch((error: Error) => this.#onError?.(error));
    });
    const hosts = Array.from({ length: this.system.workers }, (_, host) => host);
    this.#runners = await Promise.all(hosts.map((host) => spawnOrFind(this.system, kStepRunner, { name: `troupe.steps/${host}`, host })));
    this.#hub = (await spawnOrFind(this.system, kHubActor, { name: 'troupe.agents', persistenceId: 'troupe.agents/runs', host: 'main', args: { token: this.#token } })) as ActorRef<HubMessage>;
    const unfinished = await this.#hub.ask<({ id: string } & RunEntry)[]>({ type: 'unfinished' }, { timeoutMs: kAskMs });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unfinished.length) {
        const entry = unfinished[next++];
        await this.#spawnRun(entry.id, entry, kResumed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.resumeConcurrency, unfinished.length) }, worker));
  }

  /** The provider actor of that name (ask it `{ type: 'ledger' }`, or send it calls of your own). */
  async provider(name: string): Promise<ActorRef> {
    await this.ready;
    const ref = this.#providers[name];
    if (ref === undefined) throw new InvalidArgumentError(`no provider named "${name}"`);
    return ref;
  }

  /** Tokens, cost, calls, retries and 429s per provider, since the provider started. */
  async ledger(): Promise<ProviderLedger[]> {
    await this.ready;
    return Promise.all(Object.values(this.#providers).map((ref) => ref.ask<ProviderLedger>({ type: 'ledger' }, { timeoutMs: kAskMs })));
  }

  /**
   * Starts the conversation agent that `moduleUrl` exports (made by
   * defineConversation) with the actors that serve its tools; durable: its
   * history is recovered from the journal `persistenceId` (default its name).
   * A conversation of that name already running is returned as it is.
   */
  async conversation(moduleUrl: URL | string, options: ConversationSpawnOptions): Promise<ActorRef<ConversationMessage>> {
    await this.ready;
    const href = moduleHref(moduleUrl);
    const module = (await import(href)) as Record<string, unknown>;
    return spawnOrFind(this.system, new URL(href), conversationSpawn(module, href, options, this.#providers));
  }

  /**
   * Starts a run of the workflow that `moduleUrl` exports (validated here:
   * a bad graph rejects with WorkflowDefinitionError). With an `id` already
   * started, returns that run and ignores `input`.
   */
  async start(moduleUrl: URL | string, input?: unknown, options: StartOptions = {}): Promise<Run> {
    await this.ready;
    const href = moduleHref(moduleUrl);
    const exportName = options.export ?? 'default';
    const id = options.id ?? randomUUID();
    if (typeof id !== 'string' || id.length === 0 || id.length > 400) throw new InvalidArgumentError('a run id is a string of 1 to 400 characters');
    const module = (await import(href)) as Record<string, unknown>;
    if (!isWorkflowDefinition(module[exportName])) throw new WorkflowDefinitionError([`export "${exportName}" of ${href} is not made by defineWorkflow()`]);
    const run = this.get(id);
    const registered = await this.#hub!.ask<{ created: boolean; entry: RunEntry }>({ type: 'register', id, module: href, export: exportName }, { timeoutMs: kAskMs });
    if (registered.created) await this.#spawnRun(id, registered.entry, input ?? null);
    else await this.ensureRunning(id);
    return run;
  }

  /** The run with this id (its methods reject with RunNotFoundError if none was ever started on this store). */
  get(id: string): Run {
    let run = this.#runs.get(id);
    if (run === undefined) this.#runs.set(id, (run = new Run(this, id)));
    return run;
  }

  /**
   * Hands a provider a new API key without a restart (what `apiKeySecret`
   * does on each rotation): calls that start after this resolves use it.
   */
  async rotateApiKey(provider: string, apiKey: string): Promise<void> {
    if (typeof apiKey !== 'string' || apiKey.length === 0) throw new InvalidArgumentError('rotateApiKey(provider, apiKey): apiKey must be a non-empty string');
    await this.provider(provider); // unknown: a typed error before anything is kept
    this.#rotatedKeys.set(provider, apiKey);
    await this.#sendKey(provider, apiKey);
  }

  async #sendKey(provider: string, apiKey: string): Promise<void> {
    const ref = await this.provider(provider);
    await ref.ask({ type: 'api-key', sealed: seal(apiKey, this.#sealKey) }, { timeoutMs: kAskMs });
  }

  /** Every run started on this store, with its status. */
  async list(): Promise<{ id: string; status: string }[]> {
    await this.ready;
    return this.#hub!.ask({ type: 'list' }, { timeoutMs: kAskMs });
  }

  /** @internal The run's actor, activated from its journal if it is not running. */
  async ensureRunning(id: string): Promise<ActorRef<WorkflowMessage>> {
    await this.ready;
    const running = this.system.lookup<WorkflowMessage>(runName(id));
    if (running !== undefined) return running;
    const entry = await this.#hub!.ask<RunEntry | undefined>({ type: 'entry', id }, { timeoutMs: kAskMs });
    if (entry === undefined) throw new RunNotFoundError(id);
    return this.#spawnRun(id, entry, kResumed);
  }

  /** `input` starts a new run; kResumed activates one from its journal. */
  #spawnRun(id: string, entry: Pick<RunEntry, 'module' | 'export'>, input: unknown): Promise<ActorRef<WorkflowMessage>> {
    const pending = this.#starting.get(id);
    if (pending !== undefined) return pending;
    const args: WorkflowArgs = { id, module: entry.module, export: entry.export, providers: this.#providers, hub: this.#hub!, runners: this.#runners, keepMs: this.#options.keepFinishedMs };
    if (input !== kResumed) args.input = input;
    const options = { name: runName(id), persistenceId: runName(id), restart: 'transient' as const, args };
    const started = spawnOrFind(this.system, kWorkflowActor, options).finally(() => this.#starting.delete(id)) as Promise<ActorRef<WorkflowMessage>>;
    this.#starting.set(id, started);
    return started;
  }
}

const kAgentsOptions = ['providers', 'resumeConcurrency', 'keepFinishedMs', 'secrets', 'onError'];

/** Starts the agents layer of `system` (a system with a store: runs are durable). */
export function createAgents(system: ActorSystem, options: AgentsOptions = {}): Agents {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('createAgents options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!kAgentsOptions.includes(key)) throw new InvalidOptionError(key, `one of ${kAgentsOptions.join(', ')} (unknown option)`, key);
  }
  return new Agents(system, options);
}

function checkProviders(providers: AgentsOptions['providers']): Record<string, ProviderSpec> {
  if (providers === undefined) return {};
  if (providers === null || typeof providers !== 'object') throw new InvalidOptionError('providers', 'an object of providers by name', providers);
  for (const [name, spec] of Object.entries(providers)) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new InvalidOptionError(`providers.${name}`, 'a name of 1 to 64 letters, digits, _ . -', name);
    if (!isProviderSpec(spec)) throw new InvalidOptionError(`providers.${name}`, 'openai({...}) or anthropic({...})', spec);
  }
  return { ...providers };
}

async function spawnOrFind(system: ActorSystem, url: URL, options: Parameters<ActorSystem['spawn']>[1] & { name: string }): Promise<ActorRef> {
  try {
    return await system.spawn(url, options);
  } catch (error) {
    if (!(error instanceof NameTakenError)) throw error;
    const found = system.lookup(options.name);
    if (found === undefined) throw error;
    return found;
  }
}
