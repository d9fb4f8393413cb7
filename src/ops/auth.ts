/**
 * Who may call what: JWT bearer tokens (jose, algorithms pinned), API keys
 * stored hashed, and roles mapped to permissions.
 *
 * Tokens: short-lived access tokens (`typ: at+jwt`, 15 minutes by default,
 * and never accepted past `accessTtlSec` after `iat`, whatever their `exp`
 * says) and refresh tokens (`typ: refresh+jwt`), which are single-use: each
 * refresh returns a new pair, and presenting a used refresh token again
 * revokes its whole family (RFC 6819 §5.2.2.3), since one of the two holders
 * is a thief. The `typ` check keeps a refresh token from passing as an access
 * token and the reverse.
 *
 * API keys are `trp_<id>.<secret>` with 256 random bits. Only an HMAC-SHA256
 * of the key under a server-side pepper is kept: a key is as strong as a
 * random 256-bit secret, so a slow password hash would add latency to every
 * request and no safety; the pepper keeps a leaked table of hashes useless
 * without the server's secret.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignJWT, jwtVerify, type JWSAlgorithm, type JWTPayload, type JWTVerifyGetKey, type KeyInput } from 'jose';
import type { AuditLog } from '../audit/audit-log.js';
import type { Secrets } from '../secrets/secrets.js';
import { JwtKeyRing, byteLength, resolveJwtKey, type JwtKey, type JwtKeyOptions } from './jwt-keys.js';
import { HttpError, httpErrors } from './errors.js';

/** A capability a route asks for. `*` in a role grants every permission. */
export type Permission = 'routes:read' | 'routes:write' | 'metrics:read' | 'admin:read' | 'actors:stop' | 'actors:restart' | 'chaos:inject' | (string & {});

/** The built-in roles. `viewer` reads, `operator` also writes and stops actors, `admin` may do anything (fault injection included). */
export const kDefaultRoles: Readonly<Record<string, readonly Permission[]>> = Object.freeze({
  viewer: Object.freeze(['routes:read', 'metrics:read', 'admin:read']),
  operator: Object.freeze(['routes:read', 'routes:write', 'metrics:read', 'admin:read', 'actors:stop', 'actors:restart']),
  admin: Object.freeze(['*']),
});

/** Who made an authenticated request. */
export interface Principal {
  subject: string;
  role: string;
  via: 'jwt' | 'api-key';
  /** The API key's id, for `via: 'api-key'`. */
  keyId?: string;
}

export interface JwtOptions extends JwtKeyOptions {
  /** Required `iss`. */
  issuer: string;
  /** Required `aud`. */
  audience: string;
  /** Lifetime of access tokens, and the oldest `iat` accepted. @default 900 */
  accessTtlSec?: number;
  /** Lifetime of refresh tokens. @default 43200 (12 hours) */
  refreshTtlSec?: number;
  /** Clock skew accepted on `exp`, `nbf` and `iat`. @default 5 */
  clockToleranceSec?: number;
  /** Claim holding the role. @default 'role' */
  roleClaim?: string;
  /** How long a key rotated out by `rotateJwtKey` still verifies the tokens it signed. @default refreshTtlSec (nobody is logged out; pass 0 for a key that leaked) */
  rotationGraceSec?: number;
}

export interface ApiKeyRecord {
  id: string;
  role: string;
  /** Who the key belongs to (logged as the request's subject). @default the id */
  subject?: string;
  /** `hashApiKey(key, pepper)`, hex. */
  hash: string;
}

export interface AuthOptions {
  jwt?: JwtOptions;
  /** Keys known at start, hashed (see {@link hashApiKey}). */
  apiKeys?: ApiKeyRecord[];
  /** Server-side secret mixed into every API key hash (at least 16 bytes); required to use API keys. */
  pepper?: string | Uint8Array;
  /** Role → permissions. @default kDefaultRoles */
  roles?: Record<string, readonly Permission[]>;
  /** Epoch milliseconds; injected by tests. @default Date.now */
  now?: () => number;
  /** Records API keys created, added and revoked after construction (ids and roles, never the keys). */
  audit?: AuditLog;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
  refreshExpiresIn: number;
}

const kAccessTyp = 'at+jwt';
const kRefreshTyp = 'refresh+jwt';
const kKeyPrefix = 'trp_';
const kKeyPattern = /^trp_([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{16,128})$/;
const kBearerPattern = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i;
const kMaxTokenChars = 8192;
/** Verified access tokens remembered (until they expire), so a client's next requests skip the signature check. */
const kVerifiedCacheSize = 4096;

/** The stored form of an API key: HMAC-SHA256 under the pepper, hex. */
export function hashApiKey(key: string, pepper: string | Uint8Array): string {
  return createHmac('sha256', pepper).update(key).digest('hex');
}

interface ResolvedJwt {
  keys: JwtKeyRing;
  rotationGraceSec: number;
  issuer: string;
  audience: string;
  accessTtlSec: number;
  refreshTtlSec: number;
  clockToleranceSec: number;
  roleClaim: string;
}

/**
 * Authentication and authorisation for the gateway. Construct one with
 * {@link createAuth} and pass it as the gateway's `auth`.
 *
 * @example
 * const auth = createAuth({ jwt: { secret: process.env.JWT_SECRET!, issuer: 'https://id.example', audience: 'troupe' }, pepper: process.env.API_KEY_PEPPER });
 * const { key } = auth.createApiKey('viewer', { subject: 'grafana' }); // show once; only its hash is kept
 */
export class Auth {
  readonly #jwt: ResolvedJwt | undefined;
  readonly #pepper: string | Uint8Array | undefined;
  readonly #roles: Map<string, ReadonlySet<string>>;
  readonly #keys = new Map<string, ApiKeyRecord>();
  readonly #now: () => number;
  /** Refresh tokens already exchanged (jti → expiry, ms) and revoked families (→ expiry). */
  readonly #usedRefresh = new Map<string, number>();
  readonly #revokedFamilies = new Map<string, number>();
  /** Access token → its principal and when it stops being acceptable (ms); oldest entries go first. */
  readonly #verified = new Map<string, { principal: Principal; until: number }>();
  readonly #audit: AuditLog | undefined;
  readonly #resolveKey: JWTVerifyGetKey;

  constructor(options: AuthOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('auth options must be an object');
    this.#now = options.now ?? Date.now;
    this.#roles = new Map(Object.entries(options.roles ?? kDefaultRoles).map(([role, permissions]) => [role, new Set(permissions)]));
    if (options.pepper !== undefined) {
      if (byteLength(options.pepper) < 16) throw new TypeError('auth option "pepper" must be at least 16 bytes');
      this.#pepper = options.pepper;
    }
    this.#jwt = options.jwt === undefined ? undefined : resolveJwt(options.jwt);
    this.#resolveKey = this.#jwt === undefined ? async () => { throw httpErrors.invalidToken('no jwt option'); } : this.#jwt.keys.resolver(() => this.#now());
    for (const record of options.apiKeys ?? []) this.#addKey(record);
    // Keys configured at start are configuration, not changes: only later ones are recorded.
    this.#audit = options.audit;
  }

  /** Whether JWTs are accepted (and `/auth/refresh` served, when tokens can be issued). */
  get acceptsTokens(): boolean {
    return this.#jwt !== undefined;
  }

  get issuesTokens(): boolean {
    return this.#jwt?.keys.current.signKey !== undefined;
  }

  /** Whether `role` grants `permission`. */
  can(role: string, permission: Permission): boolean {
    const granted = this.#roles.get(role);
    return granted !== undefined && (granted.has('*') || granted.has(permission));
  }

  /** Throws a 403 `HttpError` unless the principal's role grants `permission`. */
  authorize(principal: Principal, permission: Permission): void {
    if (!this.can(principal.role, permission)) throw httpErrors.forbidden(permission, principal.role);
  }

  /**
   * Identifies the caller from `Authorization: Bearer <jwt>` or `X-API-Key`.
   * Rejects with a 401 `HttpError` (code `TROUPE_ERR_AUTH_*`).
   */
  async authenticate(headers: IncomingHttpHeaders): Promise<Principal> {
    const authorization = headers.authorization;
    if (authorization !== undefined) return this.#verifyBearer(authorization);
    const key = headers['x-api-key'];
    if (typeof key === 'string') return this.#verifyKey(key);
    throw httpErrors.authMissing();
  }

  /** Signs an access token and a refresh token for `subject` in `role`. */
  async issueTokens(subject: string, role: string): Promise<TokenPair> {
    if (typeof subject !== 'string' || subject.length === 0) throw new TypeError('issueTokens(subject, role): subject must be a non-empty string');
    if (!this.#roles.has(role)) throw new TypeError(`issueTokens(subject, role): unknown role ${JSON.stringify(role)}; known: ${[...this.#roles.keys()].join(', ')}`);
    return this.#issue(subject, role, randomUUID());
  }

  /** Exchanges a refresh token for a new pair; the old one is spent. Rejects with a 401 `HttpError`. */
  async refresh(refreshToken: unknown): Promise<TokenPair> {
    const jwt = this.#signingJwt();
    if (typeof refreshToken !== 'string' || refreshToken.length > kMaxTokenChars) throw httpErrors.invalidToken('refresh token missing or not a string');
    const payload = await this.#verify(refreshToken, kRefreshTyp, jwt.refreshTtlSec);
    const { jti, fam, sub } = payload;
    const role = payload[jwt.roleClaim];
    if (typeof jti !== 'string' || typeof fam !== 'string' || typeof sub !== 'string' || typeof role !== 'string') {
      throw httpErrors.invalidToken('refresh token lacks jti, fam, sub or role');
    }
    const now = this.#now();
    prune(this.#usedRefresh, now);
    prune(this.#revokedFamilies, now);
    if (this.#revokedFamilies.has(fam)) throw httpErrors.invalidToken(`refresh token family ${fam} is revoked`);
    const familyExpiry = now + jwt.refreshTtlSec * 1000;
    if (this.#usedRefresh.has(jti)) {
      this.#revokedFamilies.set(fam, familyExpiry);
      throw httpErrors.invalidToken(`refresh token ${jti} reused; family ${fam} revoked`);
    }
    this.#usedRefresh.set(jti, (payload.exp ?? 0) * 1000 + jwt.clockToleranceSec * 1000);
    if (!this.#roles.has(role)) throw httpErrors.invalidToken(`unknown role ${role}`);
    return this.#issue(sub, role, fam);
  }

  /**
   * Rotates the JWT signing key without a restart: `next` signs every token
   * from now on; tokens the old key signed keep verifying until the grace
   * period ends (`graceSec`, default the jwt option `rotationGraceSec`).
   * Recorded in the audit log (key ids only). Returns the new key's kid.
   */
  rotateJwtKey(next: JwtKeyOptions & { graceSec?: number }, actor = 'process'): string | undefined {
    const jwt = this.#jwt;
    if (jwt === undefined) throw new TypeError('rotateJwtKey: this Auth has no jwt option');
    const graceSec = next?.graceSec ?? jwt.rotationGraceSec;
    if (!Number.isInteger(graceSec) || graceSec < 0) throw new TypeError(`rotateJwtKey: graceSec must be an integer ≥ 0, received ${String(graceSec)}`);
    const key = resolveJwtKey(next, 'rotateJwtKey:');
    if (key.kid !== undefined && key.kid === jwt.keys.current.kid) {
      // A derived kid names its secret: the same secret read again, nothing rotates. A kid given by hand must change with the key.
      if (next.kid === undefined) return key.kid;
      throw new TypeError(`rotateJwtKey: kid ${key.kid} is the current key's; a new key needs a new kid`);
    }
    this.#audit?.append({ type: 'auth.jwt.rotated', actor, subject: key.kid ?? '(no kid)', detail: { previousKid: jwt.keys.current.kid ?? null, graceSec } });
    jwt.keys.rotate(key, graceSec * 1000, this.#now());
    // Cached verifications would outlive a key rotated out with no grace.
    this.#verified.clear();
    return key.kid;
  }

  /**
   * Follows an HMAC secret in `secrets`: each time it changes there,
   * `rotateJwtKey({ secret })` runs. Returns the unsubscribe function.
   */
  watchJwtSecret(secrets: Secrets, name: string, options: { graceSec?: number; onError?: (error: Error) => void } = {}): Promise<() => void> {
    return secrets.watch(name, (secret) => {
      try {
        this.rotateJwtKey({ secret, ...(options.graceSec === undefined ? {} : { graceSec: options.graceSec }) }, `secrets:${name}`);
      } catch (error) {
        options.onError?.(error as Error);
      }
    });
  }

  /**
   * Makes a new API key for `role` and keeps only its hash. The returned
   * `key` is the only copy of the secret: hand it over and forget it.
   */
  createApiKey(role: string, options?: { id?: string; subject?: string }): { key: string; record: ApiKeyRecord } {
    const pepper = this.#requirePepper();
    const id = options?.id ?? randomBytes(6).toString('hex');
    const key = `${kKeyPrefix}${id}.${randomBytes(32).toString('base64url')}`;
    const record: ApiKeyRecord = { id, role, hash: hashApiKey(key, pepper) };
    if (options?.subject !== undefined) record.subject = options.subject;
    this.#addKey(record, 'auth.key.created');
    return { key, record };
  }

  /** Registers a hashed key (e.g. loaded from configuration). */
  addApiKey(record: ApiKeyRecord): void {
    this.#addKey(record, 'auth.key.added');
  }

  /** Forgets a key. With an audit log, the revocation is recorded first: a change the log refuses is not made. */
  revokeApiKey(id: string): boolean {
    if (!this.#keys.has(id)) return false;
    this.#audit?.append({ type: 'auth.key.revoked', subject: id });
    return this.#keys.delete(id);
  }

  /** Validates and keeps a key record; a change after construction is recorded (first: one the log refuses is not made). */
  #addKey(record: ApiKeyRecord, change?: 'auth.key.created' | 'auth.key.added'): void {
    this.#requirePepper();
    if (record === null || typeof record !== 'object') throw new TypeError('an API key record must be an object');
    if (typeof record.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(record.id)) throw new TypeError(`API key id must match [A-Za-z0-9_-]{1,64}, received ${JSON.stringify(record.id)}`);
    if (!this.#roles.has(record.role)) throw new TypeError(`API key ${record.id}: unknown role ${JSON.stringify(record.role)}`);
    if (typeof record.hash !== 'string' || !/^[0-9a-f]{64}$/.test(record.hash)) throw new TypeError(`API key ${record.id}: hash must be 64 hex digits (hashApiKey)`);
    if (this.#keys.has(record.id)) throw new TypeError(`API key ${record.id} already exists`);
    if (change !== undefined) this.#audit?.append({ type: change, subject: record.id, detail: { role: record.role, owner: record.subject } });
    this.#keys.set(record.id, { ...record });
  }

  /** The stored records (hashes only), e.g. to persist them. */
  apiKeys(): ApiKeyRecord[] {
    return [...this.#keys.values()].map((record) => ({ ...record }));
  }

  // ----------------------------------------------------------------- private

  #requirePepper(): string | Uint8Array {
    if (this.#pepper === undefined) throw new TypeError('API keys need the auth option "pepper" (a server-side secret of at least 16 bytes)');
    return this.#pepper;
  }

  #signingJwt(): ResolvedJwt & { key: JwtKey & { signKey: KeyInput } } {
    const jwt = this.#jwt;
    const key = jwt?.keys.current;
    if (key?.signKey === undefined) throw new TypeError('issuing tokens needs the jwt option "secret" or "signKey"');
    return { ...jwt!, key: key as JwtKey & { signKey: KeyInput } };
  }

  async #issue(subject: string, role: string, family: string): Promise<TokenPair> {
    const jwt = this.#signingJwt();
    const iat = Math.floor(this.#now() / 1000);
    const sign = (typ: string, ttl: number, extra: JWTPayload): Promise<string> =>
      new SignJWT({ ...extra, [jwt.roleClaim]: role })
        .setProtectedHeader({ alg: jwt.key.algorithms[0], typ, ...(jwt.key.kid === undefined ? {} : { kid: jwt.key.kid }) })
        .setIssuer(jwt.issuer)
        .setAudience(jwt.audience)
        .setSubject(subject)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttl)
        .setJti(randomUUID())
        .sign(jwt.key.signKey);
    const [accessToken, refreshToken] = await Promise.all([sign(kAccessTyp, jwt.accessTtlSec, {}), sign(kRefreshTyp, jwt.refreshTtlSec, { fam: family })]);
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: jwt.accessTtlSec, refreshExpiresIn: jwt.refreshTtlSec };
  }

  async #verifyBearer(header: string): Promise<Principal> {
    const jwt = this.#jwt;
    if (jwt === undefined) throw httpErrors.invalidToken('bearer tokens are not accepted (no jwt option)');
    if (header.length > kMaxTokenChars) throw httpErrors.invalidToken('token too long');
    const match = kBearerPattern.exec(header);
    if (match === null) throw httpErrors.invalidToken('Authorization is not "Bearer <compact JWS>"');
    const token = match[1];
    const cached = this.#verified.get(token);
    if (cached !== undefined) {
      if (this.#now() < cached.until) return cached.principal;
      this.#verified.delete(token);
    }
    const { payload, kid } = await this.#verifyWithKid(token, kAccessTyp, jwt.accessTtlSec);
    const role = payload[jwt.roleClaim];
    if (typeof role !== 'string') throw httpErrors.invalidToken(`no "${jwt.roleClaim}" claim`);
    const principal: Principal = Object.freeze({ subject: payload.sub!, role, via: 'jwt' });
    // Acceptable until `exp` or `iat` + accessTtlSec, whichever comes first (the same bounds jwtVerify applies).
    // …and never past the grace end of the key that signed it.
    const until = Math.min((Math.min(payload.exp!, (payload.iat ?? payload.exp!) + jwt.accessTtlSec) + jwt.clockToleranceSec) * 1000, jwt.keys.usableUntil(kid));
    if (this.#verified.size >= kVerifiedCacheSize) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, { principal, until });
    return principal;
  }

  async #verify(token: string, typ: string, maxAgeSec: number): Promise<JWTPayload> {
    return (await this.#verifyWithKid(token, typ, maxAgeSec)).payload;
  }

  async #verifyWithKid(token: string, typ: string, maxAgeSec: number): Promise<{ payload: JWTPayload; kid: string | undefined }> {
    const jwt = this.#jwt!;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.#resolveKey, {
        algorithms: jwt.keys.algorithms(this.#now()),
        issuer: jwt.issuer,
        audience: jwt.audience,
        typ,
        maxTokenAge: maxAgeSec,
        clockTolerance: jwt.clockToleranceSec,
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(this.#now()),
      });
      return { payload, kid: protectedHeader.kid };
    } catch (error) {
      throw joseFailure(error);
    }
  }

  #verifyKey(key: string): Principal {
    const pepper = this.#pepper;
    if (pepper === undefined) throw httpErrors.invalidKey('API keys are not accepted (no pepper configured)');
    const match = kKeyPattern.exec(key);
    if (match === null) throw httpErrors.invalidKey('malformed API key');
    const record = this.#keys.get(match[1]);
    // Hash even for an unknown id, so the answer takes as long either way.
    const presented = Buffer.from(hashApiKey(key, pepper), 'hex');
    const stored = Buffer.from(record?.hash ?? '0'.repeat(64), 'hex');
    if (record === undefined || !timingSafeEqual(presented, stored)) throw httpErrors.invalidKey(`unknown API key (id ${match[1]})`);
    const principal: Principal = { subject: record.subject ?? record.id, role: record.role, via: 'api-key', keyId: record.id };
    return principal;
  }
}

/** Validates the options and builds an {@link Auth}. */
export function createAuth(options: AuthOptions): Auth {
  return new Auth(options);
}

function resolveJwt(options: JwtOptions): ResolvedJwt {
  if (options === null || typeof options !== 'object') throw new TypeError('auth option "jwt" must be an object');
  for (const name of ['issuer', 'audience'] as const) {
    if (typeof options[name] !== 'string' || options[name].length === 0) throw new TypeError(`auth option "jwt.${name}" must be a non-empty string, received ${JSON.stringify(options[name])}`);
  }
  const seconds = (name: 'accessTtlSec' | 'refreshTtlSec' | 'clockToleranceSec' | 'rotationGraceSec', fallback: number, min: number): number => {
    const value = options[name] ?? fallback;
    if (!Number.isInteger(value) || value < min) throw new TypeError(`auth option "jwt.${name}" must be an integer ≥ ${min}, received ${String(value)}`);
    return value;
  };
  const refreshTtlSec = seconds('refreshTtlSec', 43_200, 1);
  return {
    keys: new JwtKeyRing(resolveJwtKey(options, 'auth option "jwt"')),
    rotationGraceSec: seconds('rotationGraceSec', refreshTtlSec, 0),
    issuer: options.issuer,
    audience: options.audience,
    accessTtlSec: seconds('accessTtlSec', 900, 1),
    refreshTtlSec,
    clockToleranceSec: seconds('clockToleranceSec', 5, 0),
    roleClaim: options.roleClaim ?? 'role',
  };
}

/** An expired (or too old) token is worth telling the client: it should refresh. Anything else is just invalid. */
function joseFailure(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const { code, message } = error as { code?: string; message?: string };
  const detail = `${code ?? 'error'}: ${message ?? String(error)}`;
  // jose reports both a past `exp` and an `iat` older than maxTokenAge as ERR_JWT_EXPIRED.
  return code === 'ERR_JWT_EXPIRED' ? httpErrors.tokenExpired(detail) : httpErrors.invalidToken(detail);
}

function prune(expiries: Map<string, number>, now: number): void {
  if (expiries.size < 1024) return;
  for (const [key, expiry] of expiries) if (expiry < now) expiries.delete(key);
}
