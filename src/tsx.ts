/**
 * `workerPreload: ['troupe/tsx']` lets worker threads import `.ts` actor
 * modules through tsx (a dependency of your app, not of troupe). Needed on
 * Node 20, where `node --import tsx` registers its hooks on the main thread only.
 */
// @ts-ignore tsx is optional: only apps that load .ts actor modules install it.
import { register } from 'tsx/esm/api';

register();
