/**
 * What the gateway reads off a request: its target (path segments, query)
 * and its JSON body, within a size limit (the type and declared length are
 * checked before a byte of it is read).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError, httpErrors, truncate } from './errors.js';

const kJsonType = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

export function parseTarget(url: string): { path: string; segments: string[]; query: Record<string, string> } {
  if (!url.startsWith('/')) throw httpErrors.badRequest('the request target must be a path', `target ${truncate(url)}`);
  const mark = url.indexOf('?');
  const rawPath = mark < 0 ? url : url.slice(0, mark);
  let segments: string[];
  try {
    segments = rawPath === '/' ? [] : rawPath.slice(1).split('/').map((s) => decodeURIComponent(s));
  } catch {
    throw httpErrors.badRequest('the path has a malformed percent-encoding', `path ${truncate(rawPath)}`);
  }
  const query = mark < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(mark + 1)));
  return { path: `/${segments.join('/')}`, segments, query };
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length === 0 || (length === undefined && req.headers['transfer-encoding'] === undefined)) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (!kJsonType.test(type)) throw httpErrors.mediaType(type);
  if (length !== undefined && length > limit) throw httpErrors.bodyTooLarge(limit);
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error?: HttpError): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error === undefined) resolve(Buffer.concat(chunks, size));
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading; the 413 goes out with `connection: close`.
        req.pause();
        done(httpErrors.bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => done();
    const onError = (error: Error): void => done(httpErrors.badRequest('the request body could not be read', error.message));
    const onClose = (): void => done(httpErrors.badRequest('the request body was cut short', 'connection closed before the body ended'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw httpErrors.badJson((error as Error).message);
  }
}
