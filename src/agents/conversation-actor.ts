/**
 * A conversation agent's behaviour: one durable actor per conversation, its
 * message history rebuilt from its journal. A `say` is one turn: the user's
 * text, then model calls through the provider actor (its budget, retries and
 * ledger), each answer's tool calls asked of the actors that serve them and
 * their replies fed back, until the model answers without tools.
 *
 * A turn runs inside `receive` and is awaited there: the runtime holds an
 * actor's next message until its handler's promise settles, so turns (and a
 * `history` asked during one) are taken strictly in arrival order and never
 * interleave, however long a model call or a tool takes. The cost is that a
 * conversation reached again while its own turn waits (A's tool is B, B's
 * tool is A) waits on itself until `toolTimeoutMs`.
 */
import { randomUUID } from 'node:crypto';
import type { ActorContext } from '../actor/context.js';
import { defineActor, type ActorDefinition } from '../actor/define-actor.js';
import type { ActorRef } from '../actor/ref.js';
import { errorToWire, InvalidArgumentError } from '../errors.js';
import { applyConversationEvent, toolContent, unansweredCalls, windowOf, type ConversationEvent } from './conversation-history.js';
import { ToolRoundsExceededError, TurnInterruptedError, UnknownProviderError, UnknownToolError } from './errors.js';
import type { LlmMessage, LlmRequest, LlmTool, LlmToolCall, LlmUsage } from './llm-types.js';
import type { CompleteReply } from './provider-actor.js';

/** A definition's settings with every default filled in. */
export interface ResolvedConversation {
  provider: string;
  system: string | undefined;
  tools: LlmTool[];
  maxToolRounds: number;
  maxTokens: number;
  /** Messages sent to the model per call; Infinity for all. */
  historyLimit: number;
  toolTimeoutMs: number;
  llmTimeoutMs: number;
}

/** What `agents.conversation` spawns a conversation with. */
export interface ConversationArgs {
  /** Its name: the ledger's `run` for its model calls, and in its errors. */
  name: string;
  providers: Record<string, ActorRef>;
  /** The actor that serves each tool, by tool name. */
  tools: Record<string, ActorRef>;
}

export type ConversationMessage =
  | { type: 'say'; text: string }
  | { type: 'history' }
  /** As another agent's tool: `arguments: { text }` is said, and the answer is `{ text }`. */
  | { type: 'tool'; name: string; arguments: unknown };

/** One tool call of a turn: the result is the tool actor's reply, or `{ error: { code, message } }`. */
export interface ConversationToolCall {
  name: string;
  arguments: unknown;
  result: unknown;
}

/** What a `say` is answered with. */
export interface SayReply {
  text: string;
  /** Every tool call of the turn, in the order the model made them. */
  toolCalls: ConversationToolCall[];
  /** The turn's model calls, summed. */
  usage: LlmUsage;
}

interface ConversationState {
  history: LlmMessage[];
  args: ConversationArgs;
}

/** What a tool actor is told when the model calls its tool; its reply goes back to the model as JSON. */
export interface ToolRequest {
  type: 'tool';
  name: string;
  arguments: unknown;
}

const errorResult = (error: unknown): { error: { code: string; message: string } } => {
  const wire = errorToWire(error);
  return { error: { code: wire.code, message: wire.message } };
};

const toolEvent = (call: LlmToolCall, result: unknown): ConversationEvent => ({ t: 'tool', toolCallId: call.id, name: call.name, content: toolContent(result) });

/** Asks the tool's actor; any failure (no such tool, an actor that is gone, throws or is silent) is the result, for the model to read. */
async function callTool(ctx: ActorContext, state: ConversationState, config: ResolvedConversation, call: LlmToolCall): Promise<unknown> {
  try {
    const ref = state.args.tools[call.name];
    if (ref === undefined) throw new UnknownToolError(call.name, Object.keys(state.args.tools));
    const request: ToolRequest = { type: 'tool', name: call.name, arguments: call.arguments ?? {} };
    const reply: unknown = await ctx.ask(ref, request, { timeoutMs: config.toolTimeoutMs });
    return reply === undefined ? null : reply;
  } catch (error) {
    return errorResult(error);
  }
}

async function turn(ctx: ActorContext, state: ConversationState, config: ResolvedConversation, text: string): Promise<SayReply> {
  const { name, providers } = state.args;
  const provider = providers[config.provider];
  if (provider === undefined) throw new UnknownProviderError(config.provider, Object.keys(providers));
  const interrupted = unansweredCalls(state.history);
  if (interrupted.length > 0) await ctx.persist(interrupted.map((call) => toolEvent(call, errorResult(new TurnInterruptedError(name, call.name)))));
  await ctx.persist({ t: 'user', content: text, at: Date.now() } satisfies ConversationEvent);
  const turnNo = state.history.filter((m) => m.role === 'user').length;
  const usage: LlmUsage = { inputTokens: 0, outputTokens: 0 };
  const toolCalls: ConversationToolCall[] = [];
  for (let round = 0; ; round++) {
    const request: LlmRequest = { messages: windowOf(state.history, config.historyLimit), maxTokens: config.maxTokens };
    if (config.system !== undefined) request.system = config.system;
    if (config.tools.length > 0) request.tools = config.tools;
    // A fresh id per call: a restarted incarnation must not collide with its predecessor's call still in flight.
    const complete = { type: 'complete', callId: `${name}/${randomUUID()}`, request, run: name, step: `turn/${turnNo}/${round}` };
    const { result } = await ctx.ask<CompleteReply>(provider, complete, { timeoutMs: config.llmTimeoutMs });
    usage.inputTokens += result.usage.inputTokens;
    usage.outputTokens += result.usage.outputTokens;
    await ctx.persist({ t: 'assistant', content: result.text, toolCalls: result.toolCalls, usage: result.usage } satisfies ConversationEvent);
    if (result.toolCalls.length === 0) return { text: result.text, toolCalls, usage };
    if (round >= config.maxToolRounds) {
      // Answered with the error, so the history stays one the APIs accept for the next turn.
      const error = new ToolRoundsExceededError(name, config.maxToolRounds);
      await ctx.persist(result.toolCalls.map((call) => toolEvent(call, errorResult(error))));
      throw error;
    }
    // One round's calls run at once (the models emit them as independent); their results are journaled together, in call order.
    const results = await Promise.all(result.toolCalls.map((call) => callTool(ctx, state, config, call)));
    await ctx.persist(result.toolCalls.map((call, i) => toolEvent(call, results[i])));
    result.toolCalls.forEach((call, i) => toolCalls.push({ name: call.name, arguments: call.arguments, result: results[i] }));
  }
}

/** The text of a `say`, or of a `tool` call from another agent (`{ text }`, or a bare string the model sent unparsed). */
function textOf(msg: ConversationMessage, name: string): string {
  const text = msg.type === 'say' ? msg.text : msg.type === 'tool' ? (typeof msg.arguments === 'string' ? msg.arguments : (msg.arguments as { text?: unknown } | null)?.text) : undefined;
  if (typeof text !== 'string' || text.length === 0) {
    const expected = msg.type === 'say' ? "{ type: 'say', text }" : "{ type: 'tool', name, arguments: { text } }";
    throw new InvalidArgumentError(`conversation ${name}: ${expected} needs a non-empty text`);
  }
  return text;
}

export function conversationBehavior(config: ResolvedConversation): ActorDefinition<ConversationState, ConversationMessage, ConversationArgs> {
  return defineActor<ConversationState, ConversationMessage, ConversationArgs>({
    init: (args) => ({ history: [], args }),
    persistence: {
      apply: (state: ConversationState, event: ConversationEvent) => {
        applyConversationEvent(state.history, event);
        return state;
      },
    },
    async receive(state, msg, ctx) {
      // Every failure answers the asker, typed; none crashes the actor (its history is whole either way).
      const reply = ctx.deferReply();
      try {
        switch (msg?.type) {
          case 'say':
            return reply.send(await turn(ctx, state, config, textOf(msg, state.args.name)));
          case 'tool': {
            const said = await turn(ctx, state, config, textOf(msg, state.args.name));
            return reply.send({ text: said.text });
          }
          case 'history':
            // A copy: an asker on this thread gets the object itself, and the history grows.
            return reply.send(state.history.slice());
          default:
            throw new InvalidArgumentError(`conversation ${state.args.name}: unknown message type ${String((msg as { type?: unknown } | null)?.type)} (expected say, tool, history)`);
        }
      } catch (error) {
        reply.fail(error);
      }
    },
  });
}
