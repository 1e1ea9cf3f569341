// `smcirc diagnose`: per-sample DMFD decisions (CSV: each score named by the block that computes it, the states,
// the planted truth), the missing-rate summary of the paper's Figure 3 per test condition, the population
// statistics by name, and — on data with planted missingness — precision, recall and F1 of the flags.

import { writeFileSync } from 'node:fs';
import { openBackend, resolveBackend, type BackendChoice } from '../../runtime/backends/index.js';
import { evaluateConditions, fraction } from '../../runtime/eval/conditions.js';
import { dmfdRecorder } from '../../runtime/eval/dmfd-record.js';
import { loadRunData, splitArrays } from '../../runtime/train/data-source.js';
import { loadWeights, TrainingStopped } from '../../runtime/train/loop.js';
import type { ModalityArrays } from '../../runtime/data/index.js';
import type { Predictions } from '../../runtime/eval/predict.js';
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
  conditions?: string;
  csv?: string;
  json?: string;
  allowOtherSpec?: boolean;
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

interface ConditionSummary {
  condition: string;
  missing_rate: { V: number; A: number; VA: number };
  flags_vs_truth?: { vision: ReturnType<typeof flagScores>; audio: ReturnType<typeof flagScores> };
}

function summarize(condition: string, data: ModalityArrays, p: Predictions): ConditionSummary {
  const sv = p.outputs.get('state_v');
  const sa = p.outputs.get('state_a');
  if (!sv || !sa) throw new TrainingStopped('SMC5020', 'the model has no outputs `state_v` and `state_a`', 'declare them in the model’s forward (0 present, 1 missing, 2 both missing)');
  return {
    condition,
    missing_rate: { V: fraction(sv, (v) => v >= 1), A: fraction(sa, (v) => v >= 1), VA: fraction(sv, (v) => v >= 2) },
    flags_vs_truth: data.missing ? { vision: flagScores(sv, data.missing.vision), audio: flagScores(sa, data.missing.audio) } : undefined,
  };
}

export async function runDiagnose(target: string, o: DiagnoseCommandOptions): Promise<number> {
  const run = openRun(target, { spec: o.spec, set: o.set, seed: o.seed, evalBatch: o.batchSize, dmfdStats: o.dmfdStats });
  const conditions = o.conditions ? o.conditions.split(',').map((c) => c.trim().toUpperCase()) : ['LVA'];
  const dataPath = o.data ?? run.data;
  const data = loadRunData(run.abi, dataPath);
  process.stderr.write(`data: ${dataPath ?? 'built-in synthetic'} (${o.split} split), seed ${run.seed}\n`);
  const split = splitArrays(data, o.split);
  const { backend } = await openBackend(await resolveBackend(o.backend, (l) => process.stderr.write(`${l}\n`)), run.model, { overrides: run.overrides });
  const recorder = dmfdRecorder(run.abi.stats);
  const summaries: ConditionSummary[] = [];
  try {
    await loadWeights(run.abi, backend, run.checkpoint, o.allowOtherSpec ? (m) => process.stderr.write(`warning: ${m}\n`) : undefined);
    await evaluateConditions(run.abi, backend, split, conditions, undefined, (cond, d, p) => {
      recorder.detail(cond, d, p);
      summaries.push(summarize(cond, d, p));
    });
  } finally {
    await backend.dispose();
  }
  if (o.csv) writeFileSync(o.csv, recorder.csv());
  const dmfdStats = o.dmfdStats ?? run.model.settings.eval.dmfd_stats;
  const summary = { data: dataPath ?? 'synthetic', split: o.split, seed: run.seed, samples: split.n, dmfd_stats: dmfdStats, statistics: recorder.thresholds(), conditions: summaries };
  const out: string[] = [`DMFD on ${split.n} ${o.split} samples (${dmfdStats} statistics)`];
  for (const s of summaries) {
    out.push(`${s.condition}: flagged missing: V ${(s.missing_rate.V * 100).toFixed(1)}%  A ${(s.missing_rate.A * 100).toFixed(1)}%  both ${(s.missing_rate.VA * 100).toFixed(1)}%`);
    for (const [label, st] of Object.entries(summary.statistics[s.condition] ?? {})) out.push(`  ${label}: mean ${st.mean?.toFixed(4)}  std ${st.std?.toFixed(4)}`);
    if (s.flags_vs_truth) {
      for (const m of ['vision', 'audio'] as const) {
        const f = s.flags_vs_truth[m];
        out.push(`  ${m.padEnd(6)} vs planted: precision ${f.precision.toFixed(3)}  recall ${f.recall.toFixed(3)}  F1 ${f.f1.toFixed(3)}  (tp ${f.tp}, fp ${f.fp}, fn ${f.fn})`);
      }
    } else {
      out.push('  (no planted ground truth in this data: flags cannot be scored)');
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(summary, null, 2)}\n`);
  return 0;
}
