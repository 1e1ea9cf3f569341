// MMSA metrics of a model per test condition (modalities removed by zeroing) and per frame-missing rate.

import type { ModelAbi } from '../abi/model.js';
import { applyCondition, applyFrameMissing, type ModalityArrays } from '../data/index.js';
import { tokenIds } from '../train/data-source.js';
import { mmsaRegressionMetrics, type MmsaRegressionMetrics } from '../metrics/mmsa-metrics.js';
import type { Backend } from '../backends/backend.js';
import { predictSplit, type Predictions } from './predict.js';

export interface ConditionResult {
  condition: string;
  metrics: MmsaRegressionMetrics;
  /** Fraction of samples DMFD flagged as missing vision / audio / both. */
  flagged: { vision: number; audio: number; both: number };
}

/** Fraction of the values for which `f` holds, rounded to 4 places (0 for none). */
export const fraction = (s: Float32Array | undefined, f: (v: number) => boolean): number => {
  if (!s || s.length === 0) return 0;
  let c = 0;
  for (const v of s) if (f(v)) c++;
  return Math.round((c / s.length) * 1e4) / 1e4;
};

/** What one condition's evaluation saw: the (degraded) data and every prediction. */
export type ConditionDetail = (condition: string, data: ModalityArrays, predictions: Predictions) => void;

export async function evaluateConditions(model: ModelAbi, backend: Backend, split: ModalityArrays, conditions: string[], missingRate?: number, detail?: ConditionDetail): Promise<ConditionResult[]> {
  const out: ConditionResult[] = [];
  for (const cond of conditions) {
    let data: ModalityArrays = cond === 'LVA' ? split : applyCondition(split, cond, 'whole');
    if (missingRate !== undefined && missingRate > 0) data = applyFrameMissing(data, { rate: missingRate, text: tokenIds(model) ? 'tokens' : 'keep' });
    const predictions = await predictSplit(model, backend, data);
    const { outputs } = predictions;
    detail?.(missingRate ? `${cond}@${missingRate}` : cond, data, predictions);
    const sv = outputs.get('state_v');
    const sa = outputs.get('state_a');
    out.push({
      condition: missingRate ? `${cond}@${missingRate}` : cond,
      metrics: mmsaRegressionMetrics(outputs.get('pred')!, data.labels),
      flagged: { vision: fraction(sv, (v) => v >= 1), audio: fraction(sa, (v) => v >= 1), both: fraction(sv, (v) => v >= 2) },
    });
  }
  return out;
}

export const METRIC_NAMES: (keyof MmsaRegressionMetrics)[] = ['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'];

export function conditionTable(rows: ConditionResult[]): string {
  const head = ['condition', ...METRIC_NAMES, 'flag_V', 'flag_A'];
  const lines = rows.map((r) => [r.condition, ...METRIC_NAMES.map((m) => r.metrics[m].toFixed(4)), r.flagged.vision.toFixed(3), r.flagged.audio.toFixed(3)]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [fmt(head), ...lines.map(fmt)].join('\n');
}

export function conditionCsv(rows: ConditionResult[], extra: Record<string, string | number> = {}): string {
  const keys = Object.keys(extra);
  const head = [...keys, 'condition', ...METRIC_NAMES, 'flagged_vision', 'flagged_audio', 'flagged_both'].join(',');
  return [head, ...rows.map((r) => [...keys.map((k) => extra[k]), r.condition, ...METRIC_NAMES.map((m) => r.metrics[m]), r.flagged.vision, r.flagged.audio, r.flagged.both].join(','))].join('\n') + '\n';
}
