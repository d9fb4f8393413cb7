#!/usr/bin/env node
/**
 * `troupe-audit verify <log> [--key-env NAME | --key-file PATH]`: walks an
 * audit log's chain and checkpoints and prints the result as JSON. Exit 0
 * when it holds, 1 when an entry is bad (named in `firstBad`), 2 for a
 * usage error. The key comes from an environment variable
 * (TROUPE_AUDIT_KEY by default) or a file: an HMAC secret, or a PEM
 * Ed25519 key (the public key is enough to verify).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { verifyAuditLog } from './audit-log.js';

const kUsage = 'usage: troupe-audit verify <log file> [--key-env NAME (default TROUPE_AUDIT_KEY) | --key-file PATH]';

function keyFrom(text: string): string | KeyObject {
  if (!text.startsWith('-----BEGIN')) return text.replace(/\r?\n$/, '');
  return text.includes('PRIVATE KEY') ? createPrivateKey(text) : createPublicKey(text);
}

async function main(argv: string[]): Promise<number> {
  const [command, path, ...rest] = argv;
  if (command !== 'verify' || path === undefined || path.startsWith('--')) {
    console.error(kUsage);
    return 2;
  }
  let key: string | KeyObject | undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (value === undefined) {
      console.error(`${flag} needs a value\n${kUsage}`);
      return 2;
    }
    if (flag === '--key-env') key = process.env[value] === undefined ? undefined : keyFrom(process.env[value]!);
    else if (flag === '--key-file') key = keyFrom(readFileSync(value, 'utf8'));
    else {
      console.error(`unknown option ${flag}\n${kUsage}`);
      return 2;
    }
  }
  if (rest.length === 0 && process.env.TROUPE_AUDIT_KEY !== undefined) key = keyFrom(process.env.TROUPE_AUDIT_KEY);
  if (key === undefined) {
    console.error(`no key: set TROUPE_AUDIT_KEY, or pass --key-env NAME or --key-file PATH\n${kUsage}`);
    return 2;
  }
  const result = await verifyAuditLog(path, key);
  console.log(JSON.stringify(result, null, 2));
  return result.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error & { code?: string }) => {
    console.error(`troupe-audit: ${error.code ?? 'error'}: ${error.message}`);
    process.exitCode = 2;
  },
);
