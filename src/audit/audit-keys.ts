/**
 * What signs an audit log's checkpoints: an HMAC-SHA256 secret (at least
 * 32 bytes) or an Ed25519 private key. The verifier takes the same secret,
 * or for Ed25519 the private or public key, so an auditor can check a log
 * with a key that cannot write one.
 */
import { createHmac, createPublicKey, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';

/** A checkpoint key: an HMAC secret (string or bytes, ≥ 32 bytes), or an Ed25519 `KeyObject`. */
export type AuditKey = string | Uint8Array | KeyObject;

export type CheckpointAlgorithm = 'HMAC-SHA256' | 'Ed25519';

export interface CheckpointSigner {
  readonly alg: CheckpointAlgorithm;
  sign(hash: string): string;
}

export interface CheckpointVerifier {
  readonly alg: CheckpointAlgorithm;
  verify(hash: string, signature: string): boolean;
}

const kMinSecretBytes = 32;

export function checkpointSigner(key: AuditKey, option: string): CheckpointSigner {
  const material = resolve(key, option);
  if (material.alg === 'HMAC-SHA256') {
    const secret = material.secret;
    return { alg: material.alg, sign: (hash) => createHmac('sha256', secret).update(hash).digest('base64url') };
  }
  if (material.key.type !== 'private') throw new InvalidOptionError(option, 'an Ed25519 private key to sign checkpoints (a public key only verifies)', '(a public key)');
  const privateKey = material.key;
  return { alg: 'Ed25519', sign: (hash) => sign(null, Buffer.from(hash), privateKey).toString('base64url') };
}

export function checkpointVerifier(key: AuditKey, option: string): CheckpointVerifier {
  const material = resolve(key, option);
  if (material.alg === 'HMAC-SHA256') {
    const secret = material.secret;
    return {
      alg: material.alg,
      verify(hash, signature) {
        const expected = createHmac('sha256', secret).update(hash).digest();
        const presented = Buffer.from(signature, 'base64url');
        return presented.length === expected.length && timingSafeEqual(presented, expected);
      },
    };
  }
  const publicKey = material.key.type === 'private' ? createPublicKey(material.key) : material.key;
  return { alg: 'Ed25519', verify: (hash, signature) => verify(null, Buffer.from(hash), publicKey, Buffer.from(signature, 'base64url')) };
}

type Material = { alg: 'HMAC-SHA256'; secret: Uint8Array } | { alg: 'Ed25519'; key: KeyObject };

function resolve(key: AuditKey, option: string): Material {
  if (typeof key === 'string' || key instanceof Uint8Array) {
    const secret = typeof key === 'string' ? Buffer.from(key) : key;
    if (secret.byteLength < kMinSecretBytes) throw new InvalidOptionError(option, `an HMAC secret of at least ${kMinSecretBytes} bytes or an Ed25519 KeyObject`, `(${secret.byteLength} bytes)`);
    return { alg: 'HMAC-SHA256', secret };
  }
  if (key !== null && typeof key === 'object' && typeof (key as KeyObject).type === 'string') {
    if (key.type === 'secret') return resolve(key.export(), option);
    if (key.asymmetricKeyType === 'ed25519') return { alg: 'Ed25519', key };
    throw new InvalidOptionError(option, 'an HMAC secret or an Ed25519 key', `(a ${key.asymmetricKeyType ?? key.type} key)`);
  }
  throw new InvalidOptionError(option, 'an HMAC secret (string or bytes, ≥ 32 bytes) or an Ed25519 KeyObject', key === undefined ? undefined : `(${typeof key})`);
}
