import type { ActorId } from '../lane/directory.js';
import type { SystemEvent } from './lifecycle-events.js';

/** Duties only the main thread performs; worker hosts reach them through records to host 0. */
export interface MainDuties {
  onEvent(event: SystemEvent): void;
  claimName(name: string, id: ActorId): boolean;
  releaseName(name: string, id: number): void;
  /** The root supervisor gave up. */
  escalated(reason: string): void;
  /** The root supervisor decided to give up; `escalated` follows once it has stopped its children. */
  rootGivingUp?(): void;
  /** A spawn from the main thread places an actor from this module on a worker (the spare imports it ahead). */
  moduleUsed(url: string): void;
}
