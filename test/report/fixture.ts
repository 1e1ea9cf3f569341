// Hand-made run folders for the report tests, in the formats `smcirc train` writes (run.json, results.json, per seed
// history CSVs and results.json) plus the optional DMFD scores/thresholds and missing-rate curve; deterministic.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const METRICS = ['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'];
export const CONDITIONS = ['LVA', 'L', 'LV', 'LA'];

export interface FixtureOptions {
  seeds?: number[];
  /** Shifts every number, so that two runs differ (ablations). */
  offset?: number;
  history?: boolean;
  results?: boolean;
  dmfd?: boolean;
  /** true_missing columns filled (synthetic data) or empty. */
  truth?: boolean;
  /** dmfd-thresholds.json: numbers (the brief's format), { mean, std } (what the DMFD recorder writes), or absent. */
  thresholds?: 'number' | 'stats' | false;
  curve?: boolean;
  /** Extra provenance fields in run.json. */
  extra?: Record<string, unknown>;
  samples?: number;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const fmt = (x: number) => String(Number(x.toPrecision(7)));

export function writeRunFixture(dir: string, o: FixtureOptions = {}): void {
  const seeds = o.seeds ?? [1111, 1112];
  const off = o.offset ?? 0;
  const n = o.samples ?? 24;
  mkdirSync(dir, { recursive: true });
  const manifest = { spec: 'spec/smcir-tiny.smcir', overrides: ['eta=0.4'], seeds, data: 'synthetic', backend: 'reference', max_epochs: 3, ...o.extra };
  writeFileSync(join(dir, 'run.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const results: { seed: number; conditions: { condition: string; metrics: Record<string, number>; flagged: Record<string, number> }[] }[] = [];
  for (const seed of seeds) {
    const rand = rng(seed + Math.round(off * 1000));
    const sd = join(dir, `seed-${seed}`);
    mkdirSync(sd, { recursive: true });
    if (o.history ?? true) {
      const steps = ['epoch,step,loss,grad_norm,lr,samples_per_s'];
      const epochs = ['epoch,step,train_loss,valid_l1,valid_Has0_acc_2,valid_Has0_F1_score,valid_Non0_acc_2,valid_Non0_F1_score,valid_Mult_acc_5,valid_Mult_acc_7,valid_MAE,valid_Corr,flag_v,flag_a,best,seconds,samples_per_s'];
      let step = 0;
      for (let e = 1; e <= 3; e++) {
        for (let k = 0; k < 4; k++) {
          step++;
          steps.push([e, step, fmt(1.2 - 0.05 * step + 0.1 * rand() + off), fmt(0.5 * rand()), '0.001', step === 1 ? '' : fmt(200 + 50 * rand())].join(','));
        }
        const vl = r4(1.1 - 0.08 * e + off + 0.01 * rand());
        epochs.push([e, step, fmt(1.1 - 0.1 * e + off), vl, ...METRICS.map(() => r4(rand())), r4(0.3 + 0.1 * rand()), r4(0.3 + 0.1 * rand()), 1, fmt(1 + rand()), fmt(250 + 10 * rand())].join(','));
      }
      writeFileSync(join(sd, 'history-steps.csv'), `${steps.join('\n')}\n`);
      writeFileSync(join(sd, 'history-epochs.csv'), `${epochs.join('\n')}\n`);
    }
    const conditions = CONDITIONS.map((condition) => ({
      condition,
      metrics: Object.fromEntries(METRICS.map((m) => [m, r4(m === 'MAE' ? 0.9 + 0.2 * rand() + off : m === 'Corr' ? 0.5 + 0.3 * rand() - off : 0.6 + 0.3 * rand() - off)])),
      flagged: { vision: r4(0.2 + 0.2 * rand()), audio: r4(0.2 + 0.2 * rand()), both: r4(0.1 * rand()) },
    }));
    results.push({ seed, conditions });
    if (o.results ?? true) writeFileSync(join(sd, 'results.json'), `${JSON.stringify({ seed, best_epoch: 3, best_valid_l1: 0.86, conditions }, null, 2)}\n`);
    if (o.dmfd ?? true) {
      const truth = o.truth ?? true;
      const lines = ['id,condition,F_v,F_a,state_v,state_a,true_missing_v,true_missing_a,pred,label'];
      const thresholds: Record<string, Record<string, unknown>> = {};
      for (const c of CONDITIONS) {
        for (let i = 0; i < n; i++) {
          const mv = rand() < 0.3 ? 1 : 0;
          const ma = rand() < 0.3 ? 1 : 0;
          const fv = mv ? 0.6 * rand() : 0.3 + rand();
          const fa = ma ? 0.5 * rand() : 0.2 + rand();
          const sv = fv < 0.45 ? 1 : 0;
          const sa = fa < 0.35 ? 1 : 0;
          lines.push([`syn_test_${i}`, c, fmt(fv), fmt(fa), sv + (sv && sa ? 1 : 0), sa + (sv && sa ? 1 : 0), truth ? mv : '', truth ? ma : '', fmt(rand() * 2 - 1), fmt(rand() * 6 - 3)].join(','));
        }
        thresholds[c] = o.thresholds === 'stats' ? { F_v: { mean: 0.7, std: 0.3 }, F_a: { mean: 0.6, std: 0.25 } } : { F_v: 0.45, F_a: 0.35 };
      }
      writeFileSync(join(sd, 'dmfd-scores.csv'), `${lines.join('\n')}\n`);
      if (o.thresholds !== false) writeFileSync(join(sd, 'dmfd-thresholds.json'), `${JSON.stringify(thresholds, null, 2)}\n`);
    }
    if (o.curve ?? true) {
      const rates = [0, 0.1, 0.2, 0.3, 0.4, 0.5];
      const metrics = {
        Has0_acc_2: rates.map((r) => r4(0.85 - 0.4 * r - 0.02 * rand() - off)),
        Non0_F1_score: rates.map((r) => r4(0.84 - 0.35 * r - 0.02 * rand() - off)),
        MAE: rates.map((r) => r4(0.8 + 0.6 * r + 0.02 * rand() + off)),
        Corr: rates.map((r) => r4(0.7 - 0.5 * r - 0.02 * rand() - off)),
      };
      const auilc = Object.fromEntries(Object.entries(metrics).map(([m, ys]) => [m, r4(ys.slice(1).reduce((a, y, i) => a + ((y + ys[i]!) / 2) * 0.1, 0))]));
      writeFileSync(join(sd, 'missing-curve.json'), `${JSON.stringify({ rates, metrics, auilc }, null, 2)}\n`);
    }
  }
  if (o.results ?? true) {
    const mean_std: Record<string, Record<string, { mean: number; std: number }>> = {};
    for (const c of CONDITIONS) {
      mean_std[c] = {};
      for (const m of METRICS) {
        const xs = results.map((r) => r.conditions.find((x) => x.condition === c)!.metrics[m]!);
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
        mean_std[c]![m] = { mean: r4(mean), std: r4(std) };
      }
    }
    writeFileSync(join(dir, 'results.json'), `${JSON.stringify({ seeds: results, mean_std }, null, 2)}\n`);
  }
}
