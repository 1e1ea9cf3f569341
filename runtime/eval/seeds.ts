// Results over seeds: mean ± population std per condition and metric (numpy's ddof = 0, as MMSA), the paper-style
// table, MMSA's results-CSV row (cells "(mean×100, std×100)" rounded to 2 places, MAE and Corr included), and the
// area under a metric-vs-missing-rate curve (AUILC: trapezoid rule over the rates, on the ×100 means, as EMT-DLFR).

import { METRIC_NAMES, type ConditionResult } from './conditions.js';
import { numpyRound } from '../metrics/round.js';

export type SeedResults = { seed: number; conditions: ConditionResult[] }[];
export type MeanStd = Record<string, Record<string, { mean: number; std: number }>>;

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const pstd = (xs: number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};

/** Per condition and metric, over the seeds (4 decimals). */
export function meanStd(results: SeedResults): MeanStd {
  const out: MeanStd = {};
  for (const c of results[0]?.conditions.map((x) => x.condition) ?? []) {
    out[c] = {};
    for (const m of METRIC_NAMES) {
      const xs = results.map((r) => r.conditions.find((x) => x.condition === c)!.metrics[m]);
      out[c]![m] = { mean: Math.round(mean(xs) * 1e4) / 1e4, std: Math.round(pstd(xs) * 1e4) / 1e4 };
    }
  }
  return out;
}

const PERCENT = (m: string): boolean => m !== 'MAE' && m !== 'Corr';

/** The paper's style: accuracies and F1 ×100, MAE and Corr as they are, mean ± std over seeds; every metric. */
export function seedTable(results: SeedResults): string {
  const ms = meanStd(results);
  const cols = ['MAE', 'Corr', 'Has0_acc_2', 'Non0_acc_2', 'Has0_F1_score', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7'] as const;
  const cell = (m: string, v: { mean: number; std: number }) =>
    PERCENT(m) ? `${(v.mean * 100).toFixed(2)} ± ${(v.std * 100).toFixed(2)}` : `${v.mean.toFixed(3)} ± ${v.std.toFixed(3)}`;
  const rows = Object.entries(ms).map(([c, v]) => [c, ...cols.map((m) => cell(m, v[m]!))]);
  const head = ['condition', ...cols];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

/** repr of a numpy-1.x float64 rounded to 2 places, as in a printed tuple: 70.0, 83.44, -0.5. */
const py2 = (x: number): string => {
  const r = numpyRound(x, 2); // MMSA rounds numpy scalars: scale, round half to even, unscale
  const s = String(Object.is(r, -0) ? 0 : r);
  return /[.e]/.test(s) ? s : `${s}.0`;
};

export const MMSA_CSV_HEADER = ['Model', ...METRIC_NAMES].join(',');

/** One row of MMSA's results CSV (`results/normal/<dataset>.csv`): the model name, then "(mean×100, std×100)". */
export function mmsaCsvRow(model: string, results: SeedResults, condition: string): string {
  const cells = METRIC_NAMES.map((m) => {
    const xs = results.map((r) => r.conditions.find((x) => x.condition === condition)!.metrics[m]);
    return `"(${py2(mean(xs) * 100)}, ${py2(pstd(xs) * 100)})"`;
  });
  return [model, ...cells].join(',');
}

/** Area under a curve of values over increasing rates, trapezoid rule. */
export function auilc(rates: number[], values: number[]): number {
  let a = 0;
  for (let i = 1; i < rates.length; i++) a += ((values[i]! + values[i - 1]!) / 2) * (rates[i]! - rates[i - 1]!);
  return a;
}

/** `0.3`, or a range `from:to:step` (inclusive, e.g. 0:1:0.1 → 0, 0.1, …, 1). */
export function parseRates(spec: string): number[] | undefined {
  const parts = spec.split(':').map(Number);
  if (parts.some((x) => !Number.isFinite(x))) return undefined;
  if (parts.length === 1) return parts[0]! >= 0 && parts[0]! <= 1 ? parts : undefined;
  if (parts.length !== 3) return undefined;
  const [from, to, step] = parts as [number, number, number];
  if (!(from >= 0 && to <= 1 && from <= to && step > 0)) return undefined;
  const n = Math.floor((to - from) / step + 1e-9);
  if (n > 1000) return undefined;
  return Array.from({ length: n + 1 }, (_, i) => Math.round((from + i * step) * 1e9) / 1e9);
}
