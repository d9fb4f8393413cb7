import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/check-layers.mjs', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));
const trees: string[] = [];

function check(root?: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, root === undefined ? [script] : [script, root], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** A throwaway tree with src/ holding `files` (path relative to src/ -> source). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'troupe-layers-'));
  trees.push(root);
  for (const [path, source] of Object.entries(files)) {
    const file = join(root, 'src', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, source);
  }
  return root;
}

afterEach(() => {
  for (const root of trees.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('scripts/check-layers.mjs', () => {
  it('passes the real tree: every import in src/ goes downward, and none closes a circle', () => {
    const { status, output } = check();
    expect(output).toMatch(/^check-layers: OK/m);
    expect(status).toBe(0);
  });

  it('passes a small tree that only imports downward', () => {
    const { status, output } = check(
      tree({
        'errors.ts': 'export class TroupeError extends Error {}\n',
        'lane/ring.ts': "import { TroupeError } from '../errors.js';\nexport const ring = TroupeError;\n",
        'actor/ref.ts': "import { ring } from '../lane/ring.js';\nexport { ring };\n",
        'index.ts': "export { ring } from './actor/ref.js';\n",
      }),
    );
    expect(output).toMatch(/check-layers: OK, 4 modules, 3 imports/);
    expect(status).toBe(0);
  });

  it('names an upward import, whichever form it takes, and a sideways one between reliable/ and chaos/', () => {
    const { status, output } = check(
      tree({
        'lane/ring.ts': "import type { Ref } from '../actor/ref.js';\nexport type Ring = Ref;\n",
        'codec/codec.ts': "export { kHost } from '../host/host.js';\n",
        'supervision/strategy.ts': "export const load = () => import('../system/engine.js');\n",
        'actor/ref.ts': 'export type Ref = number;\n',
        'host/host.ts': 'export const kHost = 1;\n',
        'system/engine.ts': 'export const engine = 1;\n',
        'reliable/producer.ts': "import { fault } from '../chaos/faults.js';\nexport const producer = fault;\n",
        'chaos/faults.ts': 'export const fault = 1;\n',
      }),
    );
    expect(status).toBe(1);
    expect(output).toContain('lane/ring.ts:1: imports ../actor/ref.js (layer actor above layer lane)');
    expect(output).toContain('codec/codec.ts:1: imports ../host/host.js (layer host above layer codec)');
    expect(output).toContain('supervision/strategy.ts:1: imports ../system/engine.js (layer system above layer supervision)');
    expect(output).toContain('reliable/producer.ts:1: imports ../chaos/faults.js (chaos/ and reliable/ share a layer and may not import each other)');
    expect(output).toContain('check-layers: 4 violation(s)');
  });

  it('names an import circle within one directory, type-only edges included', () => {
    const { status, output } = check(
      tree({
        'host/outbox.ts': "import type { Faults } from './link-faults.js';\nexport type Held = { faults?: Faults };\n",
        'host/link-faults.ts': "import type { Held } from './outbox.js';\nexport type Faults = { held: Held[] };\n",
      }),
    );
    expect(status).toBe(1);
    expect(output).toContain('import circles (1):');
    expect(output).toContain('host/link-faults.ts -> host/outbox.ts -> host/link-faults.ts');
  });

  it('says where names re-exported from a lower module can be imported from instead', () => {
    const { status, output } = check(
      tree({
        'host/lifecycle-events.ts': 'export type SystemEvent = { type: string };\n',
        'system/events.ts': "export type { SystemEvent } from '../host/lifecycle-events.js';\n",
        'host/host.ts': "import type { SystemEvent } from '../system/events.js';\nexport type E = SystemEvent;\n",
      }),
    );
    expect(status).toBe(1);
    expect(output).toContain(
      "host/host.ts:1: imports ../system/events.js (layer system above layer host); it takes only names a lower module provides: import SystemEvent from './lifecycle-events.js'",
    );
  });

  it('refuses a module outside every layer', () => {
    const { status, output } = check(tree({ 'util/misc.ts': 'export const x = 1;\n' }));
    expect(status).toBe(1);
    expect(output).toContain('util/misc.ts: belongs to no layer');
  });
});
