import { ActorSystem, type SystemOptions } from 'troupe';

/** A compiled fixture actor module (test/fixtures/<name>.ts → dist/test/fixtures/<name>.js). */
export function fixture(name: string): URL {
  return new URL(`../dist/test/fixtures/${name}.js`, import.meta.url);
}

/** A shipped actor module (actors/<name>.ts → dist/actors/<name>.js). */
export function actor(name: string): URL {
  return new URL(`../dist/actors/${name}.js`, import.meta.url);
}

/** Starts a system quietly; the caller shuts it down (use `await using`). */
export function startSystem(options: SystemOptions = {}): Promise<ActorSystem> {
  return ActorSystem.start({ workers: 2, logLevel: 'silent', ...options });
}
