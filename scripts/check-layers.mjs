// The layering rule for src/, checked: modules import only downward, and no
// import circles anywhere (within a directory too). Every static import,
// `import type`, `export ... from`, dynamic `import('...')` and type-position
// `import('...').T` counts: a type-only edge still couples the two modules'
// reasons to change, and a circle through one still makes a reader hold both
// files in mind at once. The same rule is written out in docs/architecture.md.
//
// Usage: node scripts/check-layers.mjs [root]   (root defaults to this repo;
// the modules checked are root/src/**/*.ts). Exit 1 on any violation.
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Bottom to top. A file belongs to the first group whose test matches its path
// (relative to src/, '/'-separated). Groups on one level may import each other
// only if `isolated` is not set (reliable/ and chaos/ stand side by side and
// must stay independent of each other).
const LEVELS = [
  // A store's spec is plain data the options carry, so it sits with them.
  // A store's spec and the cluster's options are plain data the options carry, so they sit with them.
  {
    name: 'base',
    groups: [
      {
        name: 'errors.ts/options.ts/persistence/store-spec.ts/cluster/cluster-options.ts',
        test: (p) => p === 'errors.ts' || p === 'options.ts' || p === 'persistence/store-spec.ts' || p === 'cluster/cluster-options.ts',
      },
    ],
  },
  { name: 'lane', groups: [{ name: 'lane/', test: (p) => p.startsWith('lane/') }] },
  { name: 'codec', groups: [{ name: 'codec/', test: (p) => p.startsWith('codec/') }] },
  { name: 'supervision', groups: [{ name: 'supervision/', test: (p) => p.startsWith('supervision/') }] },
  { name: 'actor', groups: [{ name: 'actor/', test: (p) => p.startsWith('actor/') }] },
  { name: 'metrics', groups: [{ name: 'metrics/', test: (p) => p.startsWith('metrics/') }] },
  { name: 'persistence', groups: [{ name: 'persistence/', test: (p) => p.startsWith('persistence/') && p !== 'persistence/index.ts' }] },
  // The audit log: hash chain, checkpoint keys, a file or a store's journal (through the journal thread).
  { name: 'audit', groups: [{ name: 'audit/', test: (p) => p.startsWith('audit/') }] },
  // Where secrets come from (env, files, the application's provider), their rotation and redaction; records rotations in the audit log.
  { name: 'secrets', groups: [{ name: 'secrets/', test: (p) => p.startsWith('secrets/') }] },
  { name: 'host', groups: [{ name: 'host/', test: (p) => p.startsWith('host/') }] },
  // The link between nodes: uses hosts' refs and the codec; the system starts it.
  { name: 'cluster', groups: [{ name: 'cluster/', test: (p) => p.startsWith('cluster/') }] },
  { name: 'system', groups: [{ name: 'system/', test: (p) => p.startsWith('system/') }] },
  {
    name: 'reliable/chaos',
    isolated: true,
    groups: [
      { name: 'reliable/', test: (p) => p.startsWith('reliable/') },
      { name: 'chaos/', test: (p) => p.startsWith('chaos/') },
    ],
  },
  { name: 'ops', groups: [{ name: 'ops/', test: (p) => p.startsWith('ops/') }] },
  // LLM providers and durable workflows: actors and journals of the system below.
  { name: 'agents', groups: [{ name: 'agents/', test: (p) => p.startsWith('agents/') && p !== 'agents/index.ts' }] },
  {
    name: 'entry',
    groups: [
      {
        name: 'index.ts/tsx.ts/persistence/index.ts/agents/index.ts',
        test: (p) => p === 'index.ts' || p === 'tsx.ts' || p === 'persistence/index.ts' || p === 'agents/index.ts',
      },
    ],
  },
];

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const srcDir = join(root, 'src');
if (!existsSync(srcDir)) {
  console.error(`check-layers: no src/ under ${root}`);
  process.exit(2);
}

function listTs(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const rel = (file) => relative(srcDir, file).split(sep).join('/');

function layerOf(path) {
  for (let level = 0; level < LEVELS.length; level++) {
    for (const group of LEVELS[level].groups) if (group.test(path)) return { level, group: group.name };
  }
  return undefined;
}

/**
 * Every module specifier in a file, with its 1-based line and the names taken
 * from it (undefined when they are not listed: a namespace, default or
 * dynamic import, `export *`), and the names the file re-exports from it.
 */
function specifiers(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found = [];
  const add = (node, names, reexports) => {
    if (node !== undefined && ts.isStringLiteralLike(node)) {
      found.push({ spec: node.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, names, reexports });
    }
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const named = clause === undefined || (clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings));
      add(node.moduleSpecifier, named ? (bindings?.elements ?? []).map((e) => (e.propertyName ?? e.name).text) : undefined);
    } else if (ts.isExportDeclaration(node)) {
      const clause = node.exportClause;
      if (clause !== undefined && ts.isNamedExports(clause)) {
        add(
          node.moduleSpecifier,
          clause.elements.map((e) => (e.propertyName ?? e.name).text),
          clause.elements.map((e) => ({ as: e.name.text, name: (e.propertyName ?? e.name).text })),
        );
      } else add(node.moduleSpecifier, undefined);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, undefined);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], undefined);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, undefined);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The .ts file a relative specifier names (NodeNext style: './x.js' is './x.ts'), or undefined. */
function resolveSpec(from, spec) {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.(m|c)?js$/, '.$1ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c) && statSync(c).isFile());
}

const files = listTs(srcDir).sort();
const problems = { layer: [], unplaced: [], unresolved: [], circles: [] };
const graph = new Map(files.map((f) => [rel(f), new Set()]));
/** module -> exported name -> the module it re-exports that name from. */
const reexported = new Map(files.map((f) => [rel(f), new Map()]));
const upward = [];

for (const file of files) {
  const from = rel(file);
  const fromLayer = layerOf(from);
  if (fromLayer === undefined) problems.unplaced.push(`${from}: belongs to no layer (add its directory to LEVELS in scripts/check-layers.mjs)`);
  for (const { spec, line, names, reexports } of specifiers(file)) {
    if (!spec.startsWith('.')) continue;
    const target = resolveSpec(file, spec);
    if (target === undefined) {
      problems.unresolved.push(`${from}:${line}: imports ${spec}, which is no .ts file under src/`);
      continue;
    }
    const to = rel(target);
    if (to.startsWith('../')) {
      problems.unresolved.push(`${from}:${line}: imports ${spec}, which is outside src/`);
      continue;
    }
    graph.get(from).add(to);
    for (const { as, name } of reexports ?? []) reexported.get(from).set(as, { module: to, name });
    const toLayer = layerOf(to);
    if (fromLayer === undefined || toLayer === undefined) continue;
    if (toLayer.level > fromLayer.level) {
      upward.push({ from, line, spec, to, names, fromLayer });
    } else if (toLayer.level === fromLayer.level && toLayer.group !== fromLayer.group && LEVELS[fromLayer.level].isolated) {
      problems.layer.push(`${from}:${line}: imports ${spec} (${toLayer.group} and ${fromLayer.group} share a layer and may not import each other)`);
    }
  }
}

/** The specifier `from` would write for `to` (NodeNext: the .js name). */
function specifierFor(from, to) {
  const path = relative(dirname(join(srcDir, from)), join(srcDir, to)).split(sep).join('/').replace(/\.ts$/, '.js');
  return path.startsWith('.') ? path : `./${path}`;
}

/** The module at or below `level` that `name` of `module` comes from, following re-exports; undefined if none. */
function lowerHome(module, name, level, seen = new Set()) {
  const layer = layerOf(module);
  if (layer !== undefined && layer.level <= level) return module;
  const next = reexported.get(module)?.get(name);
  if (next === undefined || seen.has(module)) return undefined;
  seen.add(module);
  return lowerHome(next.module, next.name, level, seen);
}

// An upward import of names that a lower module already provides (the target
// only re-exports them) is fixed by changing the import's path: say which.
for (const { from, line, spec, to, names, fromLayer } of upward) {
  let message = `${from}:${line}: imports ${spec} (layer ${LEVELS[layerOf(to).level].name} above layer ${LEVELS[fromLayer.level].name})`;
  if (names !== undefined && names.length > 0) {
    const homes = new Map();
    for (const name of names) {
      const home = lowerHome(to, name, fromLayer.level);
      if (home === undefined) {
        homes.clear();
        break;
      }
      homes.set(home, [...(homes.get(home) ?? []), name]);
    }
    if (homes.size > 0) {
      const where = [...homes].map(([home, taken]) => `${taken.join(', ')} from '${specifierFor(from, home)}'`).join('; ');
      message += `; it takes only names a lower module provides: import ${where}`;
    }
  }
  problems.layer.push(message);
}

// Circles: Tarjan's strongly connected components; each component of more
// than one module (or a module importing itself) holds at least one circle,
// and one shortest circle through it is printed with the component's members.
function components() {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const out = [];
  const strong = (v) => {
    meta.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v)) {
      if (!meta.has(w)) {
        strong(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).onStack) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
    if (meta.get(v).low === meta.get(v).index) {
      const members = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).onStack = false;
        members.push(w);
      } while (w !== v);
      out.push(members.sort());
    }
  };
  for (const v of graph.keys()) if (!meta.has(v)) strong(v);
  return out;
}

function shortestCircle(start, members) {
  const inside = new Set(members);
  const prev = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of [...graph.get(v)].sort()) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

for (const members of components()) {
  if (members.length === 1 && !graph.get(members[0]).has(members[0])) continue;
  const circle = shortestCircle(members[0], members).join(' -> ');
  problems.circles.push(members.length > 2 ? `${circle}  (one circle among ${members.length} modules: ${members.join(', ')})` : circle);
}

const sections = [
  ['upward or sideways imports', problems.layer],
  ['modules outside every layer', problems.unplaced],
  ['unresolved relative imports', problems.unresolved],
  ['import circles', problems.circles],
];
const total = sections.reduce((n, [, list]) => n + list.length, 0);
const edges = [...graph.values()].reduce((n, set) => n + set.size, 0);
if (total === 0) {
  console.log(`check-layers: OK, ${files.length} modules, ${edges} imports, all downward, no circles (${LEVELS.map((l) => l.name).join(' < ')})`);
  process.exit(0);
}
for (const [title, list] of sections) {
  if (list.length === 0) continue;
  console.log(`${title} (${list.length}):`);
  for (const line of list) console.log(`  ${line}`);
}
console.log(`check-layers: ${total} violation(s) in ${files.length} modules; order bottom to top: ${LEVELS.map((l) => l.name).join(' < ')}`);
process.exit(1);
