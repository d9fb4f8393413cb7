/**
 * The JWT keys an `Auth` signs and verifies with, and their rotation: the
 * current key signs every new token and names itself in the header's
 * `kid`; a rotated-out key still verifies the tokens that name it until its
 * grace period ends (by default the refresh token lifetime, so a rotation
 * logs nobody out; 0 for a key that leaked). Several gateways reading the
 * same HMAC secret derive the same `kid` from it, so each accepts the
 * others' tokens across a rotation.
 */
import { createHmac } from 'node:crypto';
import type { JWSAlgorithm, JWTHeaderParameters, JWTVerifyGetKey, KeyInput, FlattenedJWSInput } from 'jose';
import { httpErrors } from './errors.js';

/** One key: an HMAC secret, or an asymmetric verification key (and the private key to sign with). */
export interface JwtKeyOptions {
  /** Shared secret of the HMAC algorithms (at least 32 bytes): signs and verifies. */
  secret?: string | Uint8Array;
  /** Verification key of an asymmetric algorithm: a public key, a JWK, or a resolver such as jose's `createRemoteJWKSet(url)`. */
  verifyKey?: KeyInput | JWTVerifyGetKey;
  /** Private key to issue tokens with an asymmetric algorithm. */
  signKey?: KeyInput;
  /** The only algorithms accepted (`none` never is). @default ['HS256'] with `secret`; required otherwise */
  algorithms?: JWSAlgorithm[];
  /** The key's id in the tokens it signs. @default derived from the secret (HMAC); none for an asymmetric key */
  kid?: string;
}

export interface JwtKey {
  kid: string | undefined;
  verifyKey: KeyInput | JWTVerifyGetKey;
  signKey: KeyInput | undefined;
  algorithms: JWSAlgorithm[];
}

/** A stable id for an HMAC secret that reveals nothing of it (an HMAC under the secret itself, truncated). */
export function kidOf(secret: Uint8Array): string {
  return `hs-${createHmac('sha256', secret).update('troupe jwt key id').digest('base64url').slice(0, 16)}`;
}

export function resolveJwtKey(options: JwtKeyOptions, where: string): JwtKey {
  let verifyKey: KeyInput | JWTVerifyGetKey;
  let signKey: KeyInput | undefined;
  let algorithms = options.algorithms;
  let kid = options.kid;
  if (kid !== undefined && (typeof kid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(kid))) throw new TypeError(`${where} "kid" must be printable ASCII, 1 to 128 characters`);
  if (options.secret !== undefined) {
    if (byteLength(options.secret) < 32) throw new TypeError(`${where} "secret" must be at least 32 bytes`);
    const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    verifyKey = secret;
    signKey = secret;
    algorithms ??= ['HS256'];
    kid ??= kidOf(secret);
  } else if (options.verifyKey !== undefined) {
    verifyKey = options.verifyKey;
    signKey = options.signKey;
  } else {
    throw new TypeError(`${where} needs "secret" (HMAC) or "verifyKey" (asymmetric)`);
  }
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new TypeError(`${where} "algorithms" must list the accepted algorithms (they are pinned)`);
  if (algorithms.some((alg) => typeof alg !== 'string' || alg.toLowerCase() === 'none')) throw new TypeError(`${where} "algorithms" must not contain "none"`);
  return { kid, verifyKey, signKey, algorithms: [...algorithms] };
}

/** The current key and the rotated-out ones still inside their grace period. */
export class JwtKeyRing {
  #current: JwtKey;
  /** kid → the key and the end of its grace (epoch ms). */
  readonly #retired = new Map<string, { key: JwtKey; until: number }>();

  constructor(current: JwtKey) {
    this.#current = current;
  }

  get current(): JwtKey {
    return this.#current;
  }

  /** Every algorithm some usable key accepts (each key then checks its own). */
  algorithms(now: number): JWSAlgorithm[] {
    const all = new Set(this.#current.algorithms);
    for (const { key, until } of this.#retired.values()) if (now < until) for (const alg of key.algorithms) all.add(alg);
    return [...all];
  }

  /** Makes `next` the current key; the old one verifies its tokens until `now + graceMs`. Returns the old key's kid. */
  rotate(next: JwtKey, graceMs: number, now: number): string | undefined {
    const previous = this.#current;
    if (next.kid !== undefined && next.kid === previous.kid) throw new TypeError(`rotateJwtKey: the new key has the current key's kid ${next.kid}`);
    for (const [kid, { until }] of this.#retired) if (until <= now) this.#retired.delete(kid);
    // A key without a kid cannot be told apart once rotated out: only keys with one keep a grace period.
    if (graceMs > 0 && previous.kid !== undefined) this.#retired.set(previous.kid, { key: previous, until: now + graceMs });
    if (next.kid !== undefined) this.#retired.delete(next.kid);
    this.#current = next;
    return previous.kid;
  }

  /** The key a token's `kid` names: the current one, or a rotated-out one inside its grace. */
  keyFor(kid: string | undefined, now: number): JwtKey | undefined {
    // A kid is a hint, the signature the proof: a rotated-out key inside its grace answers for its own kid, the
    // current key for every other (no kid, an identity provider's own kids that a JWKS resolver sorts out, tokens
    // from before kids). A token of a key past its grace meets the current key, and its signature fails.
    const retired = kid === undefined || kid === this.#current.kid ? undefined : this.#retired.get(kid);
    if (retired === undefined) return this.#current;
    return now < retired.until ? retired.key : undefined;
  }

  /** Until when (epoch ms) tokens naming `kid` verify: for ever for the current key (a rotation says otherwise), the grace end for a retired one. */
  usableUntil(kid: string | undefined): number {
    const retired = kid === undefined || kid === this.#current.kid ? undefined : this.#retired.get(kid);
    return retired === undefined ? Number.POSITIVE_INFINITY : retired.until;
  }

  /** jose's key resolver over {@link keyFor}. */
  resolver(now: () => number): JWTVerifyGetKey {
    return async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
      const { kid, alg } = header;
      const key = this.keyFor(kid, now());
      if (key === undefined) {
        throw httpErrors.invalidToken(`key id ${JSON.stringify(kid!.slice(0, 128))} was rotated out and its grace period has ended`);
      }
      if (!key.algorithms.includes(alg as JWSAlgorithm)) throw httpErrors.invalidToken(`algorithm ${String(alg).slice(0, 16)} is not accepted for key ${kid ?? '(none)'}`);
      return typeof key.verifyKey === 'function' ? key.verifyKey(header, token) : key.verifyKey;
    };
  }
}

export function byteLength(value: string | Uint8Array): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
}
