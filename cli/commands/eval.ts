// `smcirc eval`: MMSA metrics of a trained model per test condition, as a table and JSON. Deterministic: no
// shuffling, fixed batches; with population DMFD statistics the result does not depend on the batch size.

import { writeFileSync } from 'node:fs';
import { openBackend, resolveBackend, type BackendChoice } from '../../runtime/backends/index.js';
import { conditionCsv, conditionTable, evaluateConditions } from '../../runtime/eval/conditions.js';
import { loadRunData, splitArrays } from '../../runtime/train/data-source.js';
import { loadWeights } from '../../runtime/train/loop.js';
import { openRun } from '../open-run.js';
import { UsageError } from '../errors.js';

export interface EvalCommandOptions {
  spec?: string;
  data?: string;
  set: string[];
  seed?: number;
  conditions?: string;
  missingRate?: number;
  split: 'test' | 'valid' | 'train';
  batchSize?: number;
  dmfdStats?: 'batch' | 'population';
  backend: BackendChoice;
  json?: string;
  csv?: string;
}

export async function runEval(target: string, o: EvalCommandOptions): Promise<number> {
  const run = openRun(target, { spec: o.spec, set: o.set, seed: o.seed, evalBatch: o.batchSize, dmfdStats: o.dmfdStats });
  const conditions = o.conditions ? o.conditions.split(',').map((c) => c.trim().toUpperCase()) : run.model.settings.eval.conditions;
  if (o.missingRate !== undefined && !(o.missingRate >= 0 && o.missingRate <= 1)) throw new UsageError(`--missing-rate must be in [0, 1], got ${o.missingRate}`);
  const dataPath = o.data ?? run.data;
  const data = loadRunData(run.abi, dataPath);
  process.stderr.write(`data: ${dataPath ?? 'built-in synthetic'} (${o.split} split)\n`);
  const { backend } = await openBackend(await resolveBackend(o.backend, (l) => process.stderr.write(`${l}\n`)), run.model, { overrides: run.overrides });
  try {
    await loadWeights(run.abi, backend, run.checkpoint);
    const rows = await evaluateConditions(run.abi, backend, splitArrays(data, o.split), conditions, o.missingRate);
    process.stdout.write(`${conditionTable(rows)}\n`);
    const json = { checkpoint: run.checkpoint, data: dataPath ?? 'synthetic', split: o.split, dmfd_stats: o.dmfdStats ?? run.model.settings.eval.dmfd_stats, batch_size: run.model.evalBatch, missing_rate: o.missingRate ?? 0, conditions: rows };
    if (o.json) writeFileSync(o.json, `${JSON.stringify(json, null, 2)}\n`);
    if (o.csv) writeFileSync(o.csv, conditionCsv(rows));
  } finally {
    await backend.dispose();
  }
  return 0;
}
