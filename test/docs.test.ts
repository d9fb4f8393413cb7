// The docs are kept true by running them. Every fenced block in README.md and
// docs/**/*.md that is a complete program (it imports 'troupe' and starts a
// system at top level) must carry a marker on the line before its fence:
//
//   <!-- program: examples/quickstart.ts prints "1" -->
//     the block is that file (modulo surrounding whitespace), and the build's
//     dist/examples/quickstart.js, run with node, prints exactly that (a JSON
//     string, so "a\nb" is two lines);
//   <!-- file: examples/actors/counter.ts -->
//     the block is that file (for the modules a program loads).
//
// An unmarked complete program fails the suite, so a new one cannot slip in
// untested. Relative links must reach a file, and a heading when they name one.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** Links to files a run in progress will add; each entry names who adds it. Remove an entry once its file is committed. */
const kPendingTargets = new Set<string>([
]);

export type Marker = { kind: 'program'; path: string; prints: string } | { kind: 'file'; path: string };

export interface Block {
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  marker: Marker | undefined;
}

export interface ParsedDoc {
  blocks: Block[];
  /** Markers that are malformed or not followed by a fence. */
  errors: string[];
}

const kFence = /^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)/;
const kMarkerStart = /^\s*<!--\s*(program|file)\b/;
const kMarker = /^\s*<!--\s*(?:program:\s*(\S+)\s+prints\s+("(?:[^"\\]|\\.)*")|file:\s*(\S+))\s*-->\s*$/;
const kProgramLangs = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'mts']);

export function parseDoc(doc: string, text: string): ParsedDoc {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: Block[] = [];
  const errors: string[] = [];
  let pending: { marker: Marker; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const open = kFence.exec(line);
    if (open !== null) {
      const fence = open[1];
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !(lines[j].trimStart().startsWith(fence) && lines[j].trim().replace(/[`~]/g, '') === '')) body.push(lines[j++]);
      blocks.push({ doc, line: i + 1, lang: open[2].toLowerCase(), code: body.join('\n'), marker: pending?.marker });
      pending = undefined;
      i = j;
      continue;
    }
    if (line.trim() === '') continue;
    if (pending !== undefined) {
      errors.push(`${doc}:${pending.line}: a marker must be followed by a fenced block`);
      pending = undefined;
    }
    if (!kMarkerStart.test(line)) continue;
    const match = kMarker.exec(line);
    if (match === null) {
      errors.push(`${doc}:${i + 1}: malformed marker (expected <!-- program: PATH prints "OUTPUT" --> or <!-- file: PATH -->): ${line.trim()}`);
      continue;
    }
    pending = {
      line: i + 1,
      marker: match[1] !== undefined ? { kind: 'program', path: match[1], prints: JSON.parse(match[2]) as string } : { kind: 'file', path: match[3] },
    };
  }
  if (pending !== undefined) errors.push(`${doc}:${pending.line}: a marker must be followed by a fenced block`);
  return { blocks, errors };
}

/** A block that imports troupe and starts a system at top level: something a reader would run as is. */
export function isCompleteProgram(block: Block): boolean {
  if (!kProgramLangs.has(block.lang)) return false;
  if (!/\bfrom\s+['"]troupe(?:\/[^'"]*)?['"]/.test(block.code)) return false;
  return block.code.split('\n').some((line) => !/^\s/.test(line) && /\bawait\s+ActorSystem\.start\(/.test(line));
}

/** GitHub's heading anchors (github-slugger): inline markup dropped, punctuation removed, spaces to hyphens, repeats numbered. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const block of text.replace(/\r\n/g, '\n').split(/^ {0,3}(?:`{3,}|~{3,})[^\n]*\n[\s\S]*?^ {0,3}(?:`{3,}|~{3,})\s*$/m)) {
    for (const match of block.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
      const base = match[1]
        .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/`/g, '')
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
        .replace(/ /g, '-');
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
  }
  return anchors;
}

/** Relative links of a doc, outside code blocks and code spans. */
function linksOf(text: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  let inFence: string | undefined;
  text.replace(/\r\n/g, '\n').split('\n').forEach((line, i) => {
    const fence = kFence.exec(line);
    if (fence !== null) {
      if (inFence === undefined) inFence = fence[1];
      else if (line.trim().startsWith(inFence)) inFence = undefined;
      return;
    }
    if (inFence !== undefined) return;
    for (const match of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(match[1])) links.push({ target: match[1], line: i + 1 });
    }
  });
  return links;
}

function docFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.md'))
    .map((path) => join('docs', path).split('\\').join('/'))
    .sort();
  return ['README.md', ...docs];
}

const normalize = (code: string): string => code.replace(/\r\n/g, '\n').trim();

describe('the docs checker', () => {
  it('flags a complete program without a marker, and only a complete program', () => {
    const text = [
      '```ts',
      "import { ActorSystem } from 'troupe';",
      'const system = await ActorSystem.start();',
      '```',
      '',
      '```ts',
      "import { ActorSystem } from 'troupe';",
      'async function main() {',
      '  const system = await ActorSystem.start();',
      '}',
      '```',
      '<!-- file: examples/actors/counter.ts -->',
      '',
      '```js',
      "import { defineActor } from 'troupe';",
      '```',
    ].join('\n');
    const { blocks, errors } = parseDoc('x.md', text);
    expect(errors).toEqual([]);
    expect(blocks.map((b) => [b.line, isCompleteProgram(b), b.marker?.kind])).toEqual([
      [1, true, undefined],
      [6, false, undefined],
      [14, false, 'file'],
    ]);
  });

  it('reads a program marker, and reports a malformed or dangling one', () => {
    const text = ['<!-- program: examples/a.ts prints "1\\n2" -->', '```ts', 'x', '```', '<!-- program: examples/b.ts -->', '```ts', '```', '<!-- file: a.ts -->', 'text'].join('\n');
    const { blocks, errors } = parseDoc('y.md', text);
    expect(blocks[0].marker).toEqual({ kind: 'program', path: 'examples/a.ts', prints: '1\n2' });
    expect(blocks[1].marker).toBeUndefined();
    expect(errors).toEqual([expect.stringMatching(/^y\.md:5: malformed marker/), 'y.md:8: a marker must be followed by a fenced block']);
  });

  it("computes GitHub's anchors", () => {
    const anchors = anchorsOf('# A b\n## Method: `system.stats()`\n### The root\'s window\n## A b\n```sh\n# not a heading\n```\n');
    expect([...anchors]).toEqual(['a-b', 'method-systemstats', 'the-roots-window', 'a-b-1']);
  });
});

describe('the docs', () => {
  const docs = docFiles();
  const parsed = docs.map((doc) => parseDoc(doc, readFileSync(join(root, doc), 'utf8')));
  const blocks = parsed.flatMap((p) => p.blocks);
  const marked = blocks.filter((b) => b.marker !== undefined);
  const programs = marked.filter((b): b is Block & { marker: Extract<Marker, { kind: 'program' }> } => b.marker?.kind === 'program');

  it('are the README and the pages under docs/, and the README runs the quick start', () => {
    expect(docs).toContain('docs/api.md');
    expect(programs.some((b) => b.doc === 'README.md' && b.marker.path === 'examples/quickstart.ts')).toBe(true);
  });

  it('have no malformed or dangling markers', () => {
    expect(parsed.flatMap((p) => p.errors)).toEqual([]);
  });

  it('mark every complete program', () => {
    const unmarked = blocks.filter((b) => b.marker?.kind !== 'program' && isCompleteProgram(b)).map((b) => `${b.doc}:${b.line}`);
    expect(unmarked, 'a complete program needs <!-- program: examples/<file>.ts prints "<output>" --> before its fence').toEqual([]);
  });

  it.each(marked.map((b) => [`${b.doc}:${b.line}`, b] as const))('%s is the file its marker names', (_, block) => {
    const path = join(root, block.marker!.path);
    expect(existsSync(path), block.marker!.path).toBe(true);
    expect(normalize(block.code)).toBe(normalize(readFileSync(path, 'utf8')));
  });

  it.each(programs.map((b) => [`${b.doc}:${b.line}`, b.marker.path, b] as const))('%s runs %s and prints what it says', async (_, path, block) => {
    expect(path, 'a program lives in examples/, which the build compiles').toMatch(/^examples\/[\w/-]+\.ts$/);
    const compiled = join(root, 'dist', path.replace(/\.ts$/, '.js'));
    expect(existsSync(compiled), `${relative(root, compiled)} (run npm run build)`).toBe(true);
    const { stdout } = await run(process.execPath, [compiled], { cwd: root, timeout: 30_000 });
    expect(stdout.trim()).toBe(block.marker.prints);
  });

  it('link only to files and headings that exist', () => {
    const anchors = new Map<string, Set<string>>();
    const anchorsIn = (file: string): Set<string> => {
      let found = anchors.get(file);
      if (found === undefined) anchors.set(file, (found = anchorsOf(readFileSync(file, 'utf8'))));
      return found;
    };
    const broken: string[] = [];
    for (const doc of docs) {
      for (const { target, line } of linksOf(readFileSync(join(root, doc), 'utf8'))) {
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? join(root, doc) : resolve(root, dirname(doc), decodeURIComponent(path));
        const shown = relative(root, file).split('\\').join('/');
        if (kPendingTargets.has(shown)) continue;
        if (!existsSync(file)) broken.push(`${doc}:${line}: ${target} (no ${shown})`);
        else if (anchor !== undefined && file.endsWith('.md') && !anchorsIn(file).has(anchor)) broken.push(`${doc}:${line}: ${target} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });
});
