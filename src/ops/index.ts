/** `troupe/http`: the operations surface. Re-exports only. */
export { Gateway, createGateway } from './http.js';
export type { ActorTarget, GatewayOptions, GatewayRequest, GatewayResponse, HttpMethod, ListenOptions, RouteOptions, ShutdownOptions } from './http.js';
export type { RouteActorOptions } from './route-actors.js';
export type { AdminUiOptions } from './admin-ui.js';
export { Auth, createAuth, hashApiKey, kDefaultRoles as defaultRoles } from './auth.js';
export type { ApiKeyRecord, AuthOptions, JwtOptions, Permission, Principal, TokenPair } from './auth.js';
export type { JwtKeyOptions } from './jwt-keys.js';
export { TroupeMetrics, createMetrics } from './metrics.js';
export type { MetricsOptions } from './metrics.js';
export { HealthMonitor } from './health.js';
export type { HealthOptions, HealthReport, WorkerHealth, WorkerState } from './health.js';
export { schedule } from '../system/schedule.js';
export type { Schedule, ScheduleEnd, ScheduleOptions } from '../system/schedule.js';
export { HttpError, httpErrors } from './errors.js';
