// Renders a Vega-Lite spec to SVG in Node (vega-lite compiles it, vega's headless View draws it; no browser),
// with the report's look and every SVG id prefixed so that several SVGs can share one HTML page.

import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';
import type { VlSpec } from './figures.js';

const CONFIG = {
  font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif',
  background: 'white',
  padding: 8,
  view: { stroke: '#ddd' },
  title: { fontSize: 13, fontWeight: 'bold', anchor: 'start', offset: 8 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#eee' },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
};

/** Makes the ids of one SVG unique on a page (`clip1` → `<prefix>-clip1`, and every reference to them). */
export function prefixIds(svg: string, prefix: string): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));
  if (ids.size === 0) return svg;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alt = [...ids].map(esc).join('|');
  return svg
    .replace(new RegExp(`(\\sid=")(${alt})"`, 'g'), `$1${prefix}-$2"`)
    .replace(new RegExp(`url\\(#(${alt})\\)`, 'g'), `url(#${prefix}-$1)`)
    .replace(new RegExp(`(href=")#(${alt})"`, 'g'), `$1#${prefix}-$2"`);
}

/** The figure as a standalone SVG document (no external references), its ids prefixed with `id`. */
export async function renderSvg(spec: VlSpec, id: string): Promise<string> {
  const vl = { config: CONFIG, ...spec } as TopLevelSpec;
  const view = new View(parse(compile(vl).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return prefixIds(svg, id);
  } finally {
    view.finalize();
  }
}
