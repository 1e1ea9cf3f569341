// The paper-shaped table of a sweep: a row per spec / data / grid point, per test condition a column per metric, each
// cell mean ± std over the seeds (accuracies and F1 ×100, MAE and Corr as they are) — as Markdown, CSV or LaTeX
// (booktabs). Rows without results show "—", rows with only some seeds a "*", both explained in a footnote.

import { meanStd, type SeedResults } from '../eval/seeds.js';
import type { Row } from './collect.js';

export type TableFormat = 'md' | 'csv' | 'latex';

export interface TableOptions {
  metrics: string[];
  conditions: string[];
  format: TableFormat;
  labels: string[];
  /** The grid's seeds. */
  seeds: number[];
  /** Shown in the note on how to continue an unfinished sweep. */
  dir: string;
}

const PERCENT = (m: string): boolean => m !== 'MAE' && m !== 'Corr';
const MISSING = '—';

/** Every condition in the results, in the order first seen. */
export function conditionsOf(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) for (const s of r.results) for (const c of s.conditions) if (!out.includes(c.condition)) out.push(c.condition);
  return out;
}

interface Value {
  mean: string;
  std: string;
}

/** mean and std of one metric under one condition, as printed, over the seeds that have that condition. */
function value(results: SeedResults, condition: string, metric: string): Value | undefined {
  const seeds = results.filter((s) => s.conditions.some((c) => c.condition === condition)).map((s) => ({ seed: s.seed, conditions: s.conditions.filter((c) => c.condition === condition) }));
  if (!seeds.length) return undefined;
  const v = meanStd(seeds)[condition]?.[metric];
  if (!v) return undefined;
  return PERCENT(metric) ? { mean: (v.mean * 100).toFixed(2), std: (v.std * 100).toFixed(2) } : { mean: v.mean.toFixed(3), std: v.std.toFixed(3) };
}

const seedRange = (s: number[]): string => (s.length > 2 && s.at(-1)! - s[0]! === s.length - 1 ? `${s[0]}–${s.at(-1)}` : s.join(', '));

function notes(rows: Row[], o: TableOptions): string[] {
  const out = [`mean ± std over seeds ${seedRange(o.seeds)} (population std, as MMSA); accuracies and F1 ×100, MAE and Corr as they are.`];
  const count = (r: Row) => {
    const by = new Map<string, number>();
    for (const p of r.pending) by.set(p.why, (by.get(p.why) ?? 0) + 1);
    return [...by].map(([k, n]) => `${n} ${k}`).join(', ');
  };
  const none = rows.filter((r) => !r.results.length);
  const some = rows.filter((r) => r.results.length && r.pending.length);
  if (none.length) out.push(`${MISSING} not finished: ${none.map((r) => `${r.id} (${count(r)})`).join('; ')}.`);
  if (some.length) out.push(`* over fewer seeds than the grid's ${o.seeds.length}: ${some.map((r) => `${r.id} (${r.results.length}; ${count(r)})`).join('; ')}.`);
  if (none.length || some.length) out.push(`Run the same \`smcirc sweep\` command again to continue (it retries failed cells once; a failed cell's error is in its error.txt).`);
  return out;
}

interface Grid {
  head: string[];
  body: string[][];
}

function cells(rows: Row[], o: TableOptions, join: (v: Value) => string): Grid {
  const head = [...o.labels, ...o.conditions.flatMap((c) => o.metrics.map((m) => `${c} ${m}`))];
  const body = rows.map((r) => {
    const star = r.results.length && r.pending.length ? '*' : '';
    return [...o.labels.map((l) => r.labels[l] ?? ''), ...o.conditions.flatMap((c) => o.metrics.map((m) => {
      const v = value(r.results, c, m);
      return v ? `${join(v)}${star}` : MISSING;
    }))];
  });
  return { head, body };
}

function markdown(rows: Row[], o: TableOptions): string {
  const { head, body } = cells(rows, o, (v) => `${v.mean} ± ${v.std}`);
  const w = head.map((h, i) => Math.max(h.length, 3, ...body.map((r) => r[i]!.length)));
  const label = (i: number) => i < o.labels.length;
  const line = (r: string[]) => `| ${r.map((c, i) => (label(i) ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
  const rule = `|${w.map((n, i) => (label(i) ? `:${'-'.repeat(n + 1)}` : `${'-'.repeat(n + 1)}:`)).join('|')}|`;
  return [line(head), rule, ...body.map(line), '', ...notes(rows, o)].join('\n') + '\n';
}

function csv(rows: Row[], o: TableOptions): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const head = [...o.labels, ...o.conditions.flatMap((c) => o.metrics.flatMap((m) => [`${c} ${m}`, `${c} ${m} std`])), 'seeds', 'seeds_in_grid'];
  const body = rows.map((r) => [
    ...o.labels.map((l) => r.labels[l] ?? ''),
    ...o.conditions.flatMap((c) => o.metrics.flatMap((m) => {
      const v = value(r.results, c, m);
      return v ? [v.mean, v.std] : ['', ''];
    })),
    String(r.results.length),
    String(r.seeds),
  ]);
  return [head, ...body].map((r) => r.map(q).join(',')).join('\n') + '\n';
}

const tex = (s: string): string => s.replace(/\\/g, '\\textbackslash{}').replace(/([_%&#${}])/g, '\\$1').replace(/~/g, '\\textasciitilde{}').replace(/\^/g, '\\textasciicircum{}');

function latex(rows: Row[], o: TableOptions): string {
  const L = o.labels.length;
  const M = o.metrics.length;
  const body = cells(rows, o, (v) => `${v.mean} $\\pm$ ${v.std}`).body.map((r) =>
    r.map((c, i) => (i < L ? tex(c) : c === MISSING ? '---' : c.endsWith('*') ? `${c.slice(0, -1)}$^{*}$` : c)).join(' & ') + ' \\\\',
  );
  const groups = o.conditions.map((c) => `\\multicolumn{${M}}{c}{${tex(c)}}`);
  const rules = o.conditions.map((_, i) => `\\cmidrule(lr){${L + 1 + i * M}-${L + (i + 1) * M}}`);
  return [
    `% smcirc table ${o.dir}`,
    `\\begin{tabular}{${'l'.repeat(L)}${'c'.repeat(M * o.conditions.length)}}`,
    '\\toprule',
    `${' & '.repeat(L - 1)} & ${groups.join(' & ')} \\\\`,
    rules.join(' '),
    `${[...o.labels, ...o.conditions.flatMap(() => o.metrics)].map(tex).join(' & ')} \\\\`,
    '\\midrule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
    ...notes(rows, o).map((n) => `\\par{\\footnotesize ${tex(n).replace(/±/g, '$\\pm$').replace(/×/g, '$\\times$').replace(/—/g, '---').replace(/–/g, '--').replace(/`/g, '')}}`),
    '',
  ].join('\n');
}

export function formatTable(rows: Row[], o: TableOptions): string {
  if (o.format === 'csv') return csv(rows, o);
  if (o.format === 'latex') return latex(rows, o);
  return markdown(rows, o);
}
