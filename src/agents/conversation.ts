/**
 * `defineConversation({ provider, system, tools })`: a conversation agent,
 * exported as a module's default like an actor, and started with
 * `agents.conversation(url, { name, tools })`, which names the actor that
 * serves each tool. The definition says what the model is told (its tools'
 * names, descriptions and JSON Schemas); the spawn says who answers.
 */
import type { HostName, SpawnOptions } from '../actor/context.js';
import type { ActorDefinition } from '../actor/define-actor.js';
import { isActorRef, type ActorRef } from '../actor/ref.js';
import { InvalidArgumentError, InvalidOptionError } from '../errors.js';
import { conversationBehavior, type ConversationArgs, type ResolvedConversation } from './conversation-actor.js';
import { UnknownProviderError } from './errors.js';

export const kConversationDefinition = Symbol.for('troupe.conversation-definition');

/** What the model is told about one tool. */
export interface ConversationToolSpec {
  description?: string;
  /** JSON Schema of the arguments (an object schema, as both APIs want). */
  parameters: Record<string, unknown>;
}

export interface ConversationOptions {
  /** The provider's name in createAgents (`gpt` for `providers: { gpt: openai(...) }`). */
  provider: string;
  /** The system prompt of every model call. */
  system?: string;
  /** The tools the model may call, by name; which actor serves each is given to `agents.conversation`. */
  tools?: Record<string, ConversationToolSpec>;
  /** Rounds of tool calls in one turn before it fails with TROUPE_ERR_TOOL_ROUNDS_EXCEEDED. @default 8 */
  maxToolRounds?: number;
  /** Per model call. @default 1024 */
  maxTokens?: number;
  /** The latest messages sent with each model call (the journal keeps them all). @default all */
  historyLimit?: number;
  /** How long a tool's actor has to answer; an agent as a tool runs a whole turn in it. @default 300000 */
  toolTimeoutMs?: number;
  /** How long one model call may take, queueing for the provider's budget included. @default 3600000 */
  llmTimeoutMs?: number;
}

export interface ConversationDefinition extends ActorDefinition {
  readonly [kConversationDefinition]: ResolvedConversation;
}

/** What `agents.conversation` takes. */
export interface ConversationSpawnOptions {
  /** Unique in the system: a running conversation of this name is returned as it is. */
  name: string;
  /** Its journal. @default its name */
  persistenceId?: string;
  /** The actor that serves each tool the definition declares: every one, and no other. */
  tools?: Record<string, ActorRef>;
  /** Where it runs, as `spawn`'s `host`. @default round-robin over the workers */
  host?: HostName | 'local';
  /** The export of the module that holds the definition. @default 'default' */
  export?: string;
}

const kDefaults = { maxToolRounds: 8, maxTokens: 1024, historyLimit: Number.POSITIVE_INFINITY, toolTimeoutMs: 300_000, llmTimeoutMs: 3_600_000 };
const kOptionKeys = new Set(['provider', 'system', 'tools', 'maxToolRounds', 'maxTokens', 'historyLimit', 'toolTimeoutMs', 'llmTimeoutMs']);
const kSpawnKeys = new Set(['name', 'persistenceId', 'tools', 'host', 'export']);
/** What OpenAI allows in a function name (Anthropic's rule is the same). */
const kToolName = /^[A-Za-z0-9_-]{1,64}$/;
const kMaxMs = 2 ** 31 - 1;

function positiveInteger(options: ConversationOptions, key: 'maxToolRounds' | 'maxTokens' | 'historyLimit' | 'toolTimeoutMs' | 'llmTimeoutMs', max = kMaxMs): number {
  const value = options[key] ?? kDefaults[key];
  if (value === kDefaults[key]) return value;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidOptionError(key, `an integer from 1 to ${max}`, value);
  return value;
}

/**
 * Defines a conversation agent. Export the result as a module's default.
 *
 * @example
 * export default defineConversation({
 *   provider: 'gpt',
 *   system: 'You keep the team notes.',
 *   tools: { save_note: { description: 'Saves a note', parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } } },
 * });
 */
export function defineConversation(options: ConversationOptions): ConversationDefinition {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('defineConversation options', 'an object with provider', options);
  for (const key of Object.keys(options)) {
    if (!kOptionKeys.has(key)) throw new InvalidOptionError(key, `one of ${[...kOptionKeys].join(', ')} (unknown option)`, key);
  }
  if (typeof options.provider !== 'string' || options.provider.length === 0) throw new InvalidOptionError('provider', "a provider's name given to createAgents", options.provider);
  if (options.system !== undefined && typeof options.system !== 'string') throw new InvalidOptionError('system', 'a string', options.system);
  const tools = options.tools ?? {};
  if (tools === null || typeof tools !== 'object' || Array.isArray(tools)) throw new InvalidOptionError('tools', 'an object of { description, parameters } by tool name', tools);
  const resolvedTools = Object.entries(tools).map(([name, spec]) => {
    if (!kToolName.test(name)) throw new InvalidOptionError(`tools.${name}`, 'a name of 1 to 64 letters, digits, _ or -', name);
    if (spec === null || typeof spec !== 'object') throw new InvalidOptionError(`tools.${name}`, 'an object { description, parameters }', spec);
    for (const key of Object.keys(spec)) if (key !== 'description' && key !== 'parameters') throw new InvalidOptionError(`tools.${name}.${key}`, 'description or parameters (unknown key)', key);
    if (spec.description !== undefined && typeof spec.description !== 'string') throw new InvalidOptionError(`tools.${name}.description`, 'a string', spec.description);
    if (spec.parameters === null || typeof spec.parameters !== 'object' || Array.isArray(spec.parameters)) {
      throw new InvalidOptionError(`tools.${name}.parameters`, "a JSON Schema object ({ type: 'object', properties })", spec.parameters);
    }
    return spec.description === undefined ? { name, parameters: spec.parameters } : { name, description: spec.description, parameters: spec.parameters };
  });
  const config: ResolvedConversation = {
    provider: options.provider,
    system: options.system,
    tools: resolvedTools,
    maxToolRounds: positiveInteger(options, 'maxToolRounds', 1000),
    maxTokens: positiveInteger(options, 'maxTokens', 10_000_000),
    historyLimit: positiveInteger(options, 'historyLimit', 1_000_000),
    toolTimeoutMs: positiveInteger(options, 'toolTimeoutMs'),
    llmTimeoutMs: positiveInteger(options, 'llmTimeoutMs'),
  };
  return Object.freeze({ ...conversationBehavior(Object.freeze(config)), [kConversationDefinition]: config });
}

export function isConversationDefinition(value: unknown): value is ConversationDefinition {
  return typeof value === 'object' && value !== null && typeof (value as { [kConversationDefinition]?: unknown })[kConversationDefinition] === 'object';
}

/**
 * @internal agents.conversation's checks, against the module's definition: the
 * tools given are exactly those it declares (a misspelt name is caught here,
 * not when the model first calls it), and its provider exists.
 */
export function conversationSpawn(module: Record<string, unknown>, href: string, options: ConversationSpawnOptions, providers: Record<string, ActorRef>): SpawnOptions<ConversationArgs> & { name: string } {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('conversation options', 'an object with name and tools', options);
  for (const key of Object.keys(options)) if (!kSpawnKeys.has(key)) throw new InvalidOptionError(key, `one of ${[...kSpawnKeys].join(', ')} (unknown option)`, key);
  const { name, persistenceId = name, tools = {}, host } = options;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('name', 'a non-empty string', name);
  if (typeof persistenceId !== 'string' || persistenceId.length === 0) throw new InvalidOptionError('persistenceId', 'a non-empty string', persistenceId);
  const exportName = options.export ?? 'default';
  const definition = module[exportName];
  if (!isConversationDefinition(definition)) throw new InvalidArgumentError(`export "${exportName}" of ${href} is not made by defineConversation()`);
  const config = definition[kConversationDefinition];
  if (providers[config.provider] === undefined) throw new UnknownProviderError(config.provider, Object.keys(providers));
  if (tools === null || typeof tools !== 'object') throw new InvalidOptionError('tools', 'an object of actor refs by tool name', tools);
  const declared = config.tools.map((tool) => tool.name);
  for (const [tool, ref] of Object.entries(tools)) {
    if (!declared.includes(tool)) throw new InvalidOptionError(`tools.${tool}`, `a tool the conversation declares (${declared.join(', ') || 'none'})`, tool);
    if (!isActorRef(ref)) throw new InvalidOptionError(`tools.${tool}`, 'an ActorRef', ref);
  }
  const missing = declared.filter((tool) => !(tool in tools));
  if (missing.length > 0) throw new InvalidOptionError('tools', `a ref for every declared tool (missing: ${missing.join(', ')})`, Object.keys(tools));
  const args: ConversationArgs = { name, providers, tools: { ...tools } };
  return { name, persistenceId, args, export: exportName, ...(host === undefined ? {} : { host }) };
}
