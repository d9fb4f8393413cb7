/**
 * A rotated API key travels to its provider actor sealed (AES-256-GCM under
 * a key the agents layer hands the provider in its spawn arguments): a
 * message that cannot be delivered is reported as a dead letter with its
 * content, and a dead letter reaches events, logs and the live view. Sealed,
 * the key stays out of them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A fresh transport key, base64url. */
export function newSealKey(): string {
  return randomBytes(32).toString('base64url');
}

export function seal(value: string, key: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64url'), iv);
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed value, or undefined when it was not sealed under `key` (or was altered). */
export function unseal(sealed: string, key: string): string | undefined {
  try {
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key, 'base64url'), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
