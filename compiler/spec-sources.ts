// A spec's source files (the entry and everything it imports), named relative to their common folder, so that a
// copy (a run folder's spec/, a bundle's spec/) keeps its import paths valid.

import { dirname, relative } from 'node:path';
import type { CompiledModel } from './compile.js';

/** Spec sources relative to their common folder, so imports keep working inside the bundle. */
export function specFiles(model: CompiledModel): { files: Map<string, string>; entry: string } {
  const paths = [...model.sources.keys()];
  let base = dirname(model.specPath);
  while (!paths.every((p) => p.startsWith(`${base}/`)) && base !== dirname(base)) base = dirname(base);
  const files = new Map<string, string>();
  for (const [p, text] of model.sources) files.set(`spec/${relative(base, p)}`, text);
  return { files, entry: `spec/${relative(base, model.specPath)}` };
}
