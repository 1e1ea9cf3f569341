// The numbers behind every figure and table of a report, taken from the run folders as they are (no rounding):
// written into report.html as JSON so that a reader or a test can compare them with the run's CSV and JSON files.

import { column, METRICS, type RunRecord, type Table } from './read-run.js';

export const MODALITIES = ['vision', 'audio', 'both'] as const;

export interface StepPoint { run: string; seed: number; epoch: number | null; step: number; loss: number | null }
export interface EpochPoint { run: string; seed: number; epoch: number; step: number | null; train_loss: number | null; valid_l1: number | null; best: boolean; kept: boolean }
export interface MeanStd { run: string; condition: string; mean: number; std: number; seeds: number }
export interface DmfdScoreSeries { run: string; seed: number; condition: string; score: string; modality: string; values: (number | null)[]; states: (number | null)[] }
export interface ThresholdPoint { run: string; seed: number; condition: string; score: string; threshold?: number; mean?: number; std?: number }
export interface Detection { run: string; seed: number; condition: string; modality: 'vision' | 'audio'; tp: number; fp: number; fn: number; tn: number; precision: number | null; recall: number | null }
export interface CurvePoint { run: string; seed: number; metric: string; rate: number; value: number | null }
export interface NotRecorded { run: string; seed?: number; file: string; why: string }

export interface FigureData {
  runs: { name: string; dir: string; seeds: number[] }[];
  training: { steps: StepPoint[]; epochs: EpochPoint[] };
  test_metrics: (MeanStd & { metric: string })[];
  dmfd_flagged: (MeanStd & { modality: string })[];
  dmfd_scores: DmfdScoreSeries[];
  dmfd_thresholds: ThresholdPoint[];
  dmfd_detection: Detection[];
  missing_curve: CurvePoint[];
  auilc: { run: string; seed: number; metric: string; auilc: number }[];
  not_recorded: NotRecorded[];
}

/** Mean and population std (as results.json's mean_std), unrounded. */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
}

/** dmfd-scores.csv's columns that are not DMFD scores (the sample, the decisions, the truth, the prediction). */
const NOT_SCORES = /^(id|condition|pred|label|state_\w+|true_missing_\w+)$/;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Which modality a DMFD score belongs to, from its name (F_v, dmfd.rule_a, …). */
export function scoreModality(name: string): string {
  if (/(^|[_.])v$|vision/i.test(name)) return 'vision';
  if (/(^|[_.])a$|audio/i.test(name)) return 'audio';
  return 'other';
}

/** Conditions in the order the run evaluated them. */
export function conditionOrder(runs: RunRecord[]): string[] {
  const out: string[] = [];
  for (const r of runs) for (const s of r.results) for (const c of s.conditions) if (!out.includes(c.condition)) out.push(c.condition);
  return out;
}

function detection(t: Table, run: string, seed: number): Detection[] {
  const out: Detection[] = [];
  const cond = t.columns.indexOf('condition');
  for (const [suffix, modality] of [['v', 'vision'], ['a', 'audio']] as const) {
    const state = column(t, `state_${suffix}`);
    const truth = column(t, `true_missing_${suffix}`);
    if (!truth.some((x) => x !== null)) continue;
    const by = new Map<string, Detection>();
    t.rows.forEach((row, i) => {
      const c = String(row[cond] ?? '');
      if (state[i] === null || truth[i] === null) return;
      let d = by.get(c);
      if (!d) by.set(c, (d = { run, seed, condition: c, modality, tp: 0, fp: 0, fn: 0, tn: 0, precision: null, recall: null }));
      const f = state[i]! >= 1;
      const m = truth[i]! >= 1;
      if (f && m) d.tp++;
      else if (f) d.fp++;
      else if (m) d.fn++;
      else d.tn++;
    });
    for (const d of by.values()) {
      d.precision = d.tp + d.fp > 0 ? d.tp / (d.tp + d.fp) : null;
      d.recall = d.tp + d.fn > 0 ? d.tp / (d.tp + d.fn) : null;
      out.push(d);
    }
  }
  return out;
}

export function figureData(runs: RunRecord[]): FigureData {
  const fd: FigureData = {
    runs: runs.map((r) => ({ name: r.name, dir: r.dir, seeds: r.seeds.map((s) => s.seed) })),
    training: { steps: [], epochs: [] },
    test_metrics: [],
    dmfd_flagged: [],
    dmfd_scores: [],
    dmfd_thresholds: [],
    dmfd_detection: [],
    missing_curve: [],
    auilc: [],
    not_recorded: [],
  };
  const absent = (run: string, seed: number | undefined, file: string, why: string) => fd.not_recorded.push({ run, seed, file, why });
  for (const r of runs) {
    const run = r.name;
    if (r.results.length === 0) absent(run, undefined, 'results.json', 'not recorded');
    const conds = conditionOrder([r]);
    for (const condition of conds) {
      const recs = r.results.map((s) => s.conditions.find((c) => c.condition === condition)).filter((c) => c !== undefined);
      for (const metric of METRICS) {
        const rec = r.meanStd?.[condition]?.[metric];
        const xs = recs.map((c) => num(c.metrics[metric])).filter((x) => x !== null);
        if (rec && num(rec.mean) !== null && num(rec.std) !== null) fd.test_metrics.push({ run, condition, metric, mean: rec.mean, std: rec.std, seeds: r.results.length });
        else if (xs.length > 0) fd.test_metrics.push({ run, condition, metric, ...meanStd(xs), seeds: xs.length });
      }
      for (const modality of MODALITIES) {
        const xs = recs.map((c) => num(c.flagged?.[modality])).filter((x) => x !== null);
        if (xs.length > 0) fd.dmfd_flagged.push({ run, condition, modality, ...meanStd(xs), seeds: xs.length });
      }
    }
    for (const s of r.seeds) {
      const seed = s.seed;
      if ('value' in s.steps) {
        const t = s.steps.value;
        const [ep, st, loss] = [column(t, 'epoch'), column(t, 'step'), column(t, 'loss')];
        st.forEach((step, i) => step !== null && fd.training.steps.push({ run, seed, epoch: ep[i] ?? null, step, loss: loss[i] ?? null }));
      } else absent(run, seed, `seed-${seed}/history-steps.csv`, s.steps.absent);
      if ('value' in s.epochs) {
        const t = s.epochs.value;
        const [ep, st, tl, vl, best] = ['epoch', 'step', 'train_loss', 'valid_l1', 'best'].map((c) => column(t, c));
        ep!.forEach((epoch, i) => epoch !== null && fd.training.epochs.push({ run, seed, epoch, step: st![i] ?? null, train_loss: tl![i] ?? null, valid_l1: vl![i] ?? null, best: best![i] === 1, kept: epoch === s.best?.epoch }));
      } else absent(run, seed, `seed-${seed}/history-epochs.csv`, s.epochs.absent);
      if ('value' in s.dmfdScores) {
        const t = s.dmfdScores.value;
        const cond = t.columns.indexOf('condition');
        const condOf = t.rows.map((row) => String(row[cond] ?? ''));
        const stateCols = { vision: column(t, 'state_v'), audio: column(t, 'state_a') } as Record<string, (number | null)[]>;
        for (const score of t.columns.filter((c) => !NOT_SCORES.test(c))) {
          const modality = scoreModality(score);
          const vals = column(t, score);
          const states = stateCols[modality];
          for (const condition of [...new Set(condOf)]) {
            const idx = condOf.flatMap((c, i) => (c === condition ? [i] : []));
            fd.dmfd_scores.push({ run, seed, condition, score, modality, values: idx.map((i) => vals[i] ?? null), states: idx.map((i) => states?.[i] ?? null) });
          }
        }
        fd.dmfd_detection.push(...detection(t, run, seed));
      } else absent(run, seed, `seed-${seed}/dmfd-scores.csv`, s.dmfdScores.absent);
      if ('value' in s.dmfdThresholds) {
        for (const [condition, scores] of Object.entries(s.dmfdThresholds.value)) {
          for (const [score, t] of Object.entries(scores)) fd.dmfd_thresholds.push({ run, seed, condition, score, ...t });
        }
      } else absent(run, seed, `seed-${seed}/dmfd-thresholds.json`, s.dmfdThresholds.absent);
      if ('value' in s.missingCurve) {
        const c = s.missingCurve.value;
        for (const [metric, ys] of Object.entries(c.metrics)) c.rates.forEach((rate, i) => fd.missing_curve.push({ run, seed, metric, rate, value: num(ys[i]) }));
        for (const [metric, auilc] of Object.entries(c.auilc)) fd.auilc.push({ run, seed, metric, auilc });
      } else absent(run, seed, `seed-${seed}/missing-curve.json`, s.missingCurve.absent);
    }
  }
  return fd;
}
