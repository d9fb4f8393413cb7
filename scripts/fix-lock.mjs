// The npm registry mirror this project is built against lacks the non-Linux
// builds of msgpackr-extract, so `npm install` leaves them out of the lock
// file, and `npm ci` then refuses it ("Missing ... from lock file"). This puts
// them back as the optional, platform-bound entries a full registry records.
// Run after any `npm install`: node scripts/fix-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const parent = lock.packages['node_modules/msgpackr-extract'];
let added = 0;
for (const [name, version] of Object.entries(parent?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key] !== undefined) continue;
  const [, os, cpu] = /msgpackr-extract-(\w+)-(\w+)$/.exec(name) ?? [];
  lock.packages[key] = { version, cpu: [cpu], license: 'MIT', optional: true, os: [os] };
  added++;
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lock: added ${added} entries`);
