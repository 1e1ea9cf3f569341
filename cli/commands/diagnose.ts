// `smcirc diagnose`: per-sample DMFD states (CSV), the missing-rate summary of the paper's Figure 3, and — on data
// with planted missingness — precision, recall and F1 of the flags against the ground truth.

import { writeFileSync } from 'node:fs';
import { openBackend, resolveBackend, type BackendChoice } from '../../runtime/backends/index.js';
import { predictSplit } from '../../runtime/eval/predict.js';
import { fraction } from '../../runtime/eval/conditions.js';
import { loadRunData, splitArrays } from '../../runtime/train/data-source.js';
import { loadWeights, TrainingStopped } from '../../runtime/train/loop.js';
import { openRun } from '../open-run.js';

export interface DiagnoseCommandOptions {
  spec?: string;
  data?: string;
  set: string[];
  seed?: number;
  split: 'test' | 'valid' | 'train';
  batchSize?: number;
  dmfdStats?: 'batch' | 'population';
  backend: BackendChoice;
  csv?: string;
  json?: string;
}

export function flagScores(flags: ArrayLike<number>, truth: ArrayLike<number>): { precision: number; recall: number; f1: number; tp: number; fp: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]! >= 1;
    const t = truth[i]! >= 1;
    if (f && t) tp++;
    else if (f) fp++;
    else if (t) fn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return { precision: r4(precision), recall: r4(recall), f1: r4(f1), tp, fp, fn };
}

export async function runDiagnose(target: string, o: DiagnoseCommandOptions): Promise<number> {
  const run = openRun(target, { spec: o.spec, set: o.set, seed: o.seed, evalBatch: o.batchSize, dmfdStats: o.dmfdStats });
  const dataPath = o.data ?? run.data;
  const data = loadRunData(run.abi, dataPath);
  process.stderr.write(`data: ${dataPath ?? 'built-in synthetic'} (${o.split} split)\n`);
  const split = splitArrays(data, o.split);
  const { backend } = await openBackend(await resolveBackend(o.backend, (l) => process.stderr.write(`${l}\n`)), run.model, { overrides: run.overrides });
  try {
    await loadWeights(run.abi, backend, run.checkpoint);
    const { outputs, stats } = await predictSplit(run.abi, backend, split);
    const sv = outputs.get('state_v');
    const sa = outputs.get('state_a');
    if (!sv || !sa) throw new TrainingStopped('SMC5020', 'the model has no outputs `state_v` and `state_a`', 'declare them in the model’s forward (0 present, 1 missing, 2 both missing)');
    const n = split.n;
    const lines = ['id,state_v,state_a,pred,label' + (split.missing ? ',true_missing_v,true_missing_a' : '')];
    for (let i = 0; i < n; i++) {
      const row = [split.ids[i] ?? String(i), sv[i], sa[i], outputs.get('pred')?.[i]?.toFixed(4) ?? '', split.labels[i]!.toFixed(4)];
      if (split.missing) row.push(split.missing.vision[i]!, split.missing.audio[i]!);
      lines.push(row.join(','));
    }
    if (o.csv) writeFileSync(o.csv, `${lines.join('\n')}\n`);
    const summary = {
      data: dataPath ?? 'synthetic',
      split: o.split,
      samples: n,
      dmfd_stats: o.dmfdStats ?? run.model.settings.eval.dmfd_stats,
      statistics: Object.fromEntries(stats),
      missing_rate: { V: fraction(sv, (v) => v >= 1), A: fraction(sa, (v) => v >= 1), VA: fraction(sv, (v) => v >= 2) },
      flags_vs_truth: split.missing ? { vision: flagScores(sv, split.missing.vision), audio: flagScores(sa, split.missing.audio) } : undefined,
    };
    const out: string[] = [`DMFD on ${n} ${o.split} samples (${summary.dmfd_stats} statistics)`, `  flagged missing: V ${(summary.missing_rate.V * 100).toFixed(1)}%  A ${(summary.missing_rate.A * 100).toFixed(1)}%  both ${(summary.missing_rate.VA * 100).toFixed(1)}%`];
    if (summary.flags_vs_truth) {
      for (const m of ['vision', 'audio'] as const) {
        const s = summary.flags_vs_truth[m];
        out.push(`  ${m.padEnd(6)} vs planted: precision ${s.precision.toFixed(3)}  recall ${s.recall.toFixed(3)}  F1 ${s.f1.toFixed(3)}  (tp ${s.tp}, fp ${s.fp}, fn ${s.fn})`);
      }
    } else {
      out.push('  (no planted ground truth in this data: flags cannot be scored)');
    }
    process.stdout.write(`${out.join('\n')}\n`);
    if (o.json) writeFileSync(o.json, `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await backend.dispose();
  }
  return 0;
}
