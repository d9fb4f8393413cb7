/**
 * How benchmarks start a system: booted, spare included. The spare boots
 * beside the app and rehearses a takeover (~0.3 s of one core); a figure
 * taken in that window would measure the rehearsal too.
 */
import { ActorSystem, kInternals, type SystemOptions } from 'troupe';

export async function startBooted(options: SystemOptions): Promise<ActorSystem> {
  const system = await ActorSystem.start(options);
  await system[kInternals].spareReady();
  return system;
}
