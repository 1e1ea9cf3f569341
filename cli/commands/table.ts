// `smcirc table <sweep>`: the paper-shaped table of a sweep folder — mean ± std over seeds per row and per test
// condition and metric — as Markdown (printed by default), CSV or LaTeX; unfinished cells show as "—".

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { METRIC_NAMES } from '../../runtime/eval/conditions.js';
import { collect, labelColumns } from '../../runtime/sweep/collect.js';
import { GridError } from '../../runtime/sweep/grid.js';
import { readSweep } from '../../runtime/sweep/manifest.js';
import { conditionsOf, formatTable, type TableFormat } from '../../runtime/sweep/table.js';
import { displayPath } from '../diagnostics-output.js';
import { UsageError } from '../errors.js';

export interface TableCommandOptions {
  metrics?: string;
  conditions?: string;
  format?: string;
  output?: string;
}

/** What the paper's tables print: binary accuracy and F1 (with zero), 7-class accuracy, MAE, correlation. */
export const DEFAULT_METRICS = ['Has0_acc_2', 'Has0_F1_score', 'Mult_acc_7', 'MAE', 'Corr'];

const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);

function formatOf(o: TableCommandOptions): TableFormat {
  const f = o.format ?? (o.output?.endsWith('.csv') ? 'csv' : o.output?.endsWith('.tex') ? 'latex' : 'md');
  if (f === 'md' || f === 'csv' || f === 'latex') return f;
  throw new UsageError(`--format ${f}: expected md, csv or latex`);
}

export function runTable(dir: string, o: TableCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): number {
  const root = resolve(dir);
  let manifest;
  try {
    manifest = readSweep(root);
  } catch (e) {
    if (e instanceof GridError) throw new UsageError(e.message, e.hint);
    throw e;
  }
  const metrics = !o.metrics ? DEFAULT_METRICS : o.metrics === 'all' ? [...METRIC_NAMES] : list(o.metrics);
  const bad = metrics.filter((m) => !(METRIC_NAMES as string[]).includes(m));
  if (bad.length) throw new UsageError(`unknown metric ${bad.join(', ')}`, `choose from ${METRIC_NAMES.join(', ')} (or --metrics all)`);
  const rows = collect(root, manifest);
  const found = conditionsOf(rows);
  const conditions = o.conditions ? list(o.conditions) : found;
  const missing = conditions.filter((c) => !found.includes(c));
  if (found.length && missing.length) throw new UsageError(`condition ${missing.join(', ')} is in no result of this sweep`, `the results have ${found.join(', ')}`);
  if (!conditions.length) conditions.push('LVA');
  const text = formatTable(rows, { metrics, conditions, format: formatOf(o), labels: labelColumns(manifest), seeds: manifest.grid.seeds, dir: displayPath(root) });
  if (o.output) {
    writeFileSync(o.output, text);
    write(`${o.output}\n`);
  } else write(text);
  return 0;
}
