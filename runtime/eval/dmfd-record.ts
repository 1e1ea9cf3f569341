// What DMFD decided on the test split, per sample and condition, for reports: dmfd-scores.csv (each DMFD score,
// the states, on data with planted missingness the truth, the prediction and the label) and dmfd-thresholds.json (the population mean and
// std of each score per condition, from which the spec's adaptive threshold is computed).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModalityArrays } from '../data/index.js';
import type { ConditionDetail } from './conditions.js';
import type { Predictions } from './predict.js';

export const DMFD_SCORES = 'dmfd-scores.csv';
export const DMFD_THRESHOLDS = 'dmfd-thresholds.json';

export interface DmfdRecorder {
  detail: ConditionDetail;
  /** dmfd-scores.csv's text. */
  csv(): string;
  /** Per condition, each score's population mean and std. */
  thresholds(): Record<string, Record<string, { mean?: number; std?: number }>>;
  write(dir: string): void;
}

/** Collects every condition's DMFD decisions; `write` puts them in a seed folder. */
export function dmfdRecorder(stats: { kind: 'mean' | 'std'; label: string; input: string }[]): DmfdRecorder {
  const labels = [...new Set(stats.map((s) => s.label))];
  const rows: string[] = [];
  const thresholds: Record<string, Record<string, { mean?: number; std?: number }>> = {};
  const detail: ConditionDetail = (condition: string, data: ModalityArrays, p: Predictions) => {
    const sv = p.outputs.get('state_v');
    const sa = p.outputs.get('state_a');
    const pred = p.outputs.get('pred');
    for (let i = 0; i < data.n; i++) {
      rows.push([
        data.ids?.[i] ?? String(i), condition,
        ...labels.map((l) => fmt(p.scores.get(l)?.[i])),
        fmt(sv?.[i]), fmt(sa?.[i]),
        data.missing ? String(data.missing.vision[i]) : '', data.missing ? String(data.missing.audio[i]) : '',
        fmt(pred?.[i]), fmt(data.labels[i]),
      ].join(','));
    }
    const t: Record<string, { mean?: number; std?: number }> = {};
    for (const s of stats) (t[s.label] ??= {})[s.kind] = p.stats.get(s.input);
    thresholds[condition] = t;
  };
  const csv = () => [['id', 'condition', ...labels, 'state_v', 'state_a', 'true_missing_v', 'true_missing_a', 'pred', 'label'].join(','), ...rows].join('\n') + '\n';
  return {
    detail,
    csv,
    thresholds: () => thresholds,
    write(dir: string) {
      writeFileSync(join(dir, DMFD_SCORES), csv());
      writeFileSync(join(dir, DMFD_THRESHOLDS), `${JSON.stringify(thresholds, null, 2)}\n`);
    },
  };
}

const fmt = (v: number | undefined): string => (v === undefined ? '' : String(Number(v.toPrecision(7))));
