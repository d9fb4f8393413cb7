export { ActorSystem, kInternals } from './system/actor-system.js';
export type { SystemInternals } from './system/internals.js';
export type { Schedule, ScheduleOptions } from './system/schedule.js';
export { defineActor, isActorDefinition } from './actor/define-actor.js';
export type { ActorDefinition, ActorBehavior } from './actor/define-actor.js';
export { ActorRef, isActorRef } from './actor/ref.js';
export type { AskOptions, TellOptions } from './actor/ref.js';
export { EntityRef } from './actor/entity-ref.js';
export type { EntityOptions } from './system/entities.js';
export type { ActorContext, SpawnOptions, HostName, DownMessage, ReplyHandle } from './actor/context.js';
export type { SupervisorOptions, BackoffOptions, Strategy, RestartType } from './supervision/strategy.js';
export type { ActorId } from './lane/directory.js';
export type { SystemOptions } from './options.js';
export type { ClusterOptions } from './cluster/cluster-options.js';
export { Cluster, ClusterEvents } from './cluster/cluster.js';
export type { ClusterMember, ClusterEventType, ClusterEventOf } from './cluster/cluster.js';
export type { ClusterEvent } from './cluster/cluster-link.js';
export { kDefaults as defaults } from './options.js';
export { SystemEvents, kEventBits as eventBits } from './system/events.js';
export type {
  SystemEvent,
  SystemEventType,
  EventOf,
  ActorStartedEvent,
  ActorCrashedEvent,
  ActorRestartedEvent,
  ActorStoppedEvent,
  WorkerExitedEvent,
  WorkerReplacedEvent,
  WorkerStalledEvent,
  DeadLetterEvent,
  BackpressureEvent,
  SystemStoppedEvent,
  SupervisorDecidedEvent,
  SystemEscalatedEvent,
  WaitForOptions,
} from './system/events.js';
export type { SystemStats, HostStats, LaneStats, ClusterStats } from './metrics/stats.js';
export type { Percentiles } from './metrics/shared-histogram.js';
export {
  TroupeError,
  InvalidOptionError,
  InvalidArgumentError,
  AskTimeoutError,
  ActorNotFoundError,
  ActorStoppedError,
  ActorCrashedError,
  ActorInitError,
  ModuleLoadError,
  NotAnActorError,
  NameTakenError,
  UnencodableMessageError,
  PayloadTooLargeError,
  MailboxFullError,
  DecodeError,
  SystemStoppedError,
  WorkerExitedError,
  TooManyActorsError,
  NodeDownError,
  ClusterUnavailableError,
} from './errors.js';
export type { WireError } from './errors.js';
