// `smcirc eval`: MMSA metrics of a trained model per test condition — every seed of a run (mean ± std) or one
// (--seed) — optionally along a curve of frame/token missing rates with its area (AUILC), as a table, JSON, CSV,
// and a row of MMSA's results CSV. Deterministic: no shuffling, fixed batches; with population DMFD statistics
// the result does not depend on the batch size.

import { appendFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MISSING_CURVE_FILE } from '../../runtime/report/read-run.js';
import { openBackend, resolveBackend, type BackendChoice } from '../../runtime/backends/index.js';
import { conditionCsv, conditionTable, evaluateConditions, METRIC_NAMES, type ConditionResult } from '../../runtime/eval/conditions.js';
import { auilc, meanStd, MMSA_CSV_HEADER, mmsaCsvRow, parseRates, seedTable, type SeedResults } from '../../runtime/eval/seeds.js';
import { loadRunData, splitArrays } from '../../runtime/train/data-source.js';
import { loadWeights } from '../../runtime/train/loop.js';
import { specName } from '../../runtime/abi/model.js';
import { openRun } from '../open-run.js';
import { UsageError } from '../errors.js';

export interface EvalCommandOptions {
  spec?: string;
  data?: string;
  set: string[];
  seed?: number;
  conditions?: string;
  missingRate?: string;
  split: 'test' | 'valid' | 'train';
  batchSize?: number;
  dmfdStats?: 'batch' | 'population';
  backend: BackendChoice;
  json?: string;
  csv?: string;
  mmsaCsv?: string;
  allowOtherSpec?: boolean;
}

/** One point of a missing-rate curve: the results of every seed at that rate. */
interface CurvePoint {
  rate: number;
  seeds: SeedResults;
}

export async function runEval(target: string, o: EvalCommandOptions): Promise<number> {
  const rates = o.missingRate === undefined ? undefined : parseRates(o.missingRate);
  if (o.missingRate !== undefined && !rates) throw new UsageError(`--missing-rate must be a rate in [0, 1] or a range from:to:step, got "${o.missingRate}"`, 'e.g. --missing-rate 0.3, or --missing-rate 0:0.9:0.1 for a curve');
  const run = openRun(target, { spec: o.spec, set: o.set, seed: o.seed, evalBatch: o.batchSize, dmfdStats: o.dmfdStats });
  const conditions = o.conditions ? o.conditions.split(',').map((c) => c.trim().toUpperCase()) : run.model.settings.eval.conditions;
  const dataPath = o.data ?? run.data;
  const data = loadRunData(run.abi, dataPath);
  const split = splitArrays(data, o.split);
  process.stderr.write(`data: ${dataPath ?? 'built-in synthetic'} (${o.split} split); seeds: ${run.checkpoints.map((c) => c.seed).join(', ')}\n`);
  const { backend } = await openBackend(await resolveBackend(o.backend, (l) => process.stderr.write(`${l}\n`)), run.model, { overrides: run.overrides });
  const points: CurvePoint[] = (rates ?? [0]).map((rate) => ({ rate, seeds: [] }));
  try {
    for (const ck of run.checkpoints) {
      await loadWeights(run.abi, backend, ck.path, o.allowOtherSpec ? (m) => process.stderr.write(`warning: ${m}\n`) : undefined);
      for (const p of points) {
        const rows: ConditionResult[] = await evaluateConditions(run.abi, backend, split, conditions, p.rate > 0 ? p.rate : undefined);
        p.seeds.push({ seed: ck.seed, conditions: rows.map((r) => ({ ...r, condition: r.condition.replace(/@.*$/, '') })) });
      }
    }
  } finally {
    await backend.dispose();
  }
  const several = run.checkpoints.length > 1;
  const out: string[] = [];
  for (const p of points) {
    if (rates) out.push(`missing rate ${p.rate}`);
    out.push(several ? `mean ± std over seeds ${p.seeds.map((s) => s.seed).join(', ')} (×100 for accuracies and F1)\n${seedTable(p.seeds)}` : conditionTable(p.seeds[0]!.conditions));
  }
  const curve = rates && rates.length > 1 ? missingCurve(points, conditions) : undefined;
  if (curve) out.push(`AUILC over rates ${rates![0]}…${rates![rates!.length - 1]} (trapezoid rule on the ×100 means)\n${curveTable(curve)}`);
  process.stdout.write(`${out.join('\n\n')}\n`);
  const base = points[0]!;
  // a curve of a run folder is also kept per seed, for `smcirc report` (the first condition, values as measured)
  if (rates && rates.length > 1 && statSync(target).isDirectory()) {
    const cond = conditions[0]!;
    for (const ck of run.checkpoints) {
      const at = (p: CurvePoint) => p.seeds.find((s) => s.seed === ck.seed)!.conditions.find((c) => c.condition === cond)!.metrics;
      const metrics = Object.fromEntries(METRIC_NAMES.map((m) => [m, points.map((p) => at(p)[m])]));
      const area = Object.fromEntries(METRIC_NAMES.map((m) => [m, Math.round(auilc(rates, metrics[m]!.map((v) => 100 * v)) * 1e4) / 1e4]));
      writeFileSync(join(dirname(ck.path), MISSING_CURVE_FILE), `${JSON.stringify({ condition: cond, rates, metrics, auilc: area }, null, 2)}\n`);
    }
  }
  if (o.json) {
    const json = {
      checkpoints: run.checkpoints, data: dataPath ?? 'synthetic', split: o.split, dmfd_stats: o.dmfdStats ?? run.model.settings.eval.dmfd_stats, batch_size: run.model.evalBatch,
      missing_rate: rates ?? 0,
      conditions: several ? undefined : base.seeds[0]!.conditions,
      seeds: base.seeds,
      mean_std: meanStd(base.seeds),
      curve: rates ? points.map((p) => ({ rate: p.rate, mean_std: meanStd(p.seeds) })) : undefined,
      auilc: curve,
    };
    writeFileSync(o.json, `${JSON.stringify(json, null, 2)}\n`);
  }
  if (o.csv) writeFileSync(o.csv, base.seeds.map((s, i) => conditionCsv(s.conditions, { seed: s.seed }).split('\n').slice(i === 0 ? 0 : 1).join('\n')).join(''));
  if (o.mmsaCsv) {
    const model = specName(run.abi).replace(/\.smcir$/, '');
    const rows = conditions.map((c) => mmsaCsvRow(c === 'LVA' ? model : `${model}-${c}`, base.seeds, c));
    if (!existsSync(o.mmsaCsv)) writeFileSync(o.mmsaCsv, `${MMSA_CSV_HEADER}\n`);
    appendFileSync(o.mmsaCsv, `${rows.join('\n')}\n`);
    process.stderr.write(`appended ${rows.length} row${rows.length === 1 ? '' : 's'} to ${basename(o.mmsaCsv)} (MMSA layout: "(mean×100, std×100)")\n`);
  }
  return 0;
}

/** Per condition and metric: the AUILC of the mean (×100) over the rates. */
function missingCurve(points: CurvePoint[], conditions: string[]): Record<string, Record<string, number>> {
  const rates = points.map((p) => p.rate);
  const out: Record<string, Record<string, number>> = {};
  for (const c of conditions) {
    out[c] = {};
    for (const m of METRIC_NAMES) {
      const ys = points.map((p) => 100 * (p.seeds.reduce((a, s) => a + s.conditions.find((x) => x.condition === c)!.metrics[m], 0) / p.seeds.length));
      out[c]![m] = Math.round(auilc(rates, ys) * 1e4) / 1e4;
    }
  }
  return out;
}

function curveTable(curve: Record<string, Record<string, number>>): string {
  const head = ['condition', ...METRIC_NAMES];
  const rows = Object.entries(curve).map(([c, v]) => [c, ...METRIC_NAMES.map((m) => v[m]!.toFixed(2))]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}
