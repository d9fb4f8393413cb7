/**
 * One SVG chart per curve, drawn by vega-lite (compiled to a vega spec and
 * rendered headless by vega's View, no canvas), written next to a JSON file
 * with the same points, so a reader can re-plot or diff them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { environment } from './lib.js';

export interface Axis {
  field: string;
  title: string;
  /** Logarithmic scale (sizes that grow by powers of ten). */
  log?: boolean;
  /** Discrete values (a count of threads): one tick each, no fractions. */
  ordinal?: boolean;
}

export interface Curve {
  /** File name without extension: `<dir>/<name>.svg` and `<dir>/<name>.json`. */
  name: string;
  title: string;
  x: Axis;
  y: Axis;
  /** Field that splits the points into lines (troupe vs a baseline, spread vs co-located). */
  series?: string;
  points: Record<string, string | number>[];
}

/** The default home of charts: bench/results/charts (source tree, not dist). */
export const kChartsDir = new URL('../../bench/results/charts/', import.meta.url);

function axis(a: Axis): Record<string, unknown> {
  if (a.ordinal === true) return { field: a.field, type: 'ordinal', title: a.title, axis: { labelAngle: 0 } };
  // '~s': SI prefixes without trailing zeros (8M, 250k, 16k).
  return { field: a.field, type: 'quantitative', title: a.title, axis: { format: '~s' }, scale: a.log === true ? { type: 'log' } : { zero: false } };
}

/** Renders `curve` to SVG with vega-lite + vega. */
export async function renderSvg(curve: Curve): Promise<string> {
  const env = environment();
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: curve.title, subtitle: `Node ${env.node}, ${env.cpu} × ${env.cores}` },
    width: 480,
    height: 280,
    data: { values: curve.points },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: axis(curve.x),
      y: axis(curve.y),
      ...(curve.series === undefined ? {} : { color: { field: curve.series, type: 'nominal', title: null, legend: { orient: 'bottom' } } }),
    },
  };
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const kRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Writes `<dir>/<name>.svg` and `<dir>/<name>.json`; returns the SVG's path (relative to the repository when inside it). */
export async function writeChart(curve: Curve, dir: URL = kChartsDir): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const svg = await renderSvg(curve);
  const svgUrl = new URL(`${curve.name}.svg`, dir);
  writeFileSync(svgUrl, svg);
  writeFileSync(new URL(`${curve.name}.json`, dir), `${JSON.stringify({ ...curve, env: environment(), at: new Date().toISOString() }, null, 2)}\n`);
  const path = relative(kRoot, fileURLToPath(svgUrl));
  return path.startsWith('..') || isAbsolute(path) ? fileURLToPath(svgUrl) : path;
}
