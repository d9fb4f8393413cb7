import type { HostName } from '../actor/context.js';

/** Host of worker `i` is `i + 1`; host 0 is the main thread. */
export const hostNameOf = (index: number): HostName => (index === 0 ? 'main' : index - 1);
