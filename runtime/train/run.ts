// A training run: the run folder (spec sources, resolved hyperparameters, log, per-seed checkpoints), one
// training per seed, test metrics per condition with each seed's best weights, and the mean ± std table.

import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, sep } from 'node:path';
import { specName, type ModelAbi } from '../abi/model.js';
import { dmfdRecorder } from '../eval/dmfd-record.js';
import { specHash } from '../abi/manifest.js';
import { claimRunFolder } from './run-lock.js';
import { SMCIRC_VERSION } from '../abi/version.js';
import type { InitRecord, LoadedInit } from './pretrained.js';
import { meanStd, seedTable } from '../eval/seeds.js';
import type { Backend } from '../backends/backend.js';
import { conditionCsv, conditionTable, evaluateConditions, METRIC_NAMES, type ConditionResult } from '../eval/conditions.js';
import { loadWeights, trainSeed, type ProgressSink, type SeedRunResult } from './loop.js';
import { CheckpointError } from './safetensors.js';
import type { RunData } from './data-source.js';
import { makeDirs } from '../fs.js';

export interface RunOptions {
  model: ModelAbi;
  makeBackend: () => Promise<Backend>;
  data: RunData;
  dataSource: string;
  /** The resolved backend, recorded in run.json. */
  backend: 'gpu' | 'reference';
  seeds: number[];
  dir: string;
  overrides: string[];
  progress: ProgressSink;
  resume?: boolean;
  maxSteps?: number;
  maxEpochs?: number;
  /** Pretrained weights of members (`--init`), recorded in run.json with their checkpoint's hash. */
  init?: LoadedInit[];
  /** The command line and the data file's sha256, for run.json. */
  provenance?: { command: string[]; dataSha256?: string };
}

export interface RunSummary {
  dir: string;
  seeds: SeedRunResult[];
  /** Test metrics per condition, for each seed's best weights. */
  results: { seed: number; conditions: ConditionResult[] }[];
  table: string;
}

export const RUN_MANIFEST = 'run.json';

/** Copies the spec and everything it imports into `<dir>/spec/`, keeping relative import paths valid. */
function copySpec(model: ModelAbi, dir: string): string {
  const { files, entry } = model.spec;
  for (const [rel, text] of files) {
    makeDirs(dirname(join(dir, rel)));
    writeFileSync(join(dir, rel), text);
  }
  return entry;
}

/** What `run.json` records: enough to evaluate the run or resume it exactly as it was started. */
export interface RunManifest {
  spec: string;
  overrides: string[];
  seeds: number[];
  /** Absolute path of the data, or `synthetic`. */
  data: string;
  /** The backend the run trained on (`gpu` or `reference`): `--resume` keeps it, so a resumed run stays exact. */
  backend?: string;
  /** Pretrained weights the run started from: member, folder, weights file, format, sha256. */
  init?: InitRecord[];
  /** Provenance: what was actually used (written by runs of this version and later). */
  smcirc?: string;
  command?: string[];
  spec_sha256?: string;
  constants?: Record<string, unknown>;
  settings?: unknown;
  data_sha256?: string;
  data_report?: unknown;
  adapter?: string;
  /** Each `--resume`: when, and with which command. */
  resumed?: { at: string; command: string[] }[];
  max_epochs?: number;
  max_steps?: number;
}

export function readRunManifest(dir: string): RunManifest | undefined {
  const p = join(dir, RUN_MANIFEST);
  if (!existsSync(p)) return undefined;
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as RunManifest;
    if (typeof m.spec !== 'string' || !Array.isArray(m.overrides) || !Array.isArray(m.seeds) || typeof m.data !== 'string') throw new Error('fields missing');
    return m;
  } catch (e) {
    throw new CheckpointError('SMC5015', `${p} is damaged (${(e as Error).message})`, 'the run folder cannot be resumed or evaluated as a run; evaluate a checkpoint directly with `smcirc eval <seed-N/best.safetensors> --spec <spec>`');
  }
}

/** Writes JSON through a temporary file and a rename: a reader never sees half a file. */
function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

function updateManifest(dir: string, f: (m: RunManifest) => RunManifest): void {
  const m = readRunManifest(dir);
  if (m) writeJsonAtomic(join(dir, RUN_MANIFEST), f(m));
}

export async function trainRun(o: RunOptions): Promise<RunSummary> {
  const release = claimRunFolder(o.dir);
  try {
    if (!o.resume && existsSync(join(o.dir, RUN_MANIFEST))) {
      throw new CheckpointError('SMC5017', `${o.dir} already holds a run`, `continue it with \`smcirc train --resume ${o.dir}\`, or choose another --out`);
    }
    return await trainClaimed(o);
  } finally {
    release();
  }
}

async function trainClaimed(o: RunOptions): Promise<RunSummary> {
  const { model, dir } = o;
  const log = (line: string) => appendFileSync(join(dir, 'log.txt'), `${new Date().toISOString()} ${line}\n`);
  const progress: ProgressSink = {
    step: (i) => o.progress.step(i),
    epoch: (r) => {
      log(`epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)}, valid L1 ${r.validL1.toFixed(4)}${r.best ? ' (best)' : ''}, ${r.samplesPerSecond.toFixed(1)} samples/s`);
      o.progress.epoch(r);
    },
    message: (m) => {
      log(m);
      o.progress.message(m);
    },
  };
  let specEntry = readRunManifest(dir)?.spec;
  if (!o.resume || specEntry === undefined) {
    const spec = copySpec(model, dir);
    specEntry = spec;
    const settings = { ...model.settings, train: { ...model.settings.train, seeds: o.seeds, max_epochs: o.maxEpochs ?? model.settings.train.max_epochs } };
    const r = o.data.report;
    const manifest: RunManifest = {
      spec, overrides: o.overrides, seeds: o.seeds, data: o.dataSource, backend: o.backend, init: o.init?.map((i) => i.record), max_epochs: o.maxEpochs, max_steps: o.maxSteps,
      smcirc: SMCIRC_VERSION, command: o.provenance?.command, spec_sha256: specHash(model.spec.files), constants: model.constants, settings,
      data_sha256: o.provenance?.dataSha256,
      data_report: { format: r.format, protocol: r.protocol, numpy: r.numpyModules, dtypes: r.dtypes, neg_inf_replaced: r.negInfReplaced, non_finite: r.nonFinite, warnings: r.warnings },
    };
    writeJsonAtomic(join(dir, RUN_MANIFEST), manifest);
    writeFileSync(join(dir, 'hyperparameters.json'), `${JSON.stringify({ overrides: o.overrides, constants: model.constants, ...settings }, null, 2)}\n`);
    log(`spec ${specName(model)}, data ${o.dataSource}, seeds ${o.seeds.join(',')}, backend ${o.backend}`);
  }
  const pretrained = new Map<string, Float32Array>();
  for (const i of o.init ?? []) {
    for (const [k, v] of i.values) pretrained.set(k, v);
    progress.message(`init ${i.record.member} from ${i.record.file} (${i.record.format}, sha256 ${i.record.sha256.slice(0, 12)}…, ${i.record.tensors} tensors)`);
    if (i.warning) progress.message(`note: ${i.warning}`);
  }
  if (o.resume) updateManifest(dir, (m) => ({ ...m, resumed: [...(m.resumed ?? []), { at: new Date().toISOString(), command: o.provenance?.command ?? [] }] }));
  const seeds: SeedRunResult[] = [];
  const results: RunSummary['results'] = [];
  let described = false;
  for (const seed of o.seeds) {
    const backend = await o.makeBackend();
    if (!described) {
      described = true;
      updateManifest(dir, (m) => ({ ...m, adapter: backend.describe() }));
    }
    try {
      progress.message(`seed ${seed}: training on ${o.data.train.n} samples, validating on ${o.data.valid.n}`);
      const specRef = posix.join('..', ...specEntry.split(sep));
      const r = await trainSeed({ model, backend, data: o.data, seed, dir: join(dir, `seed-${seed}`), progress, resume: o.resume, maxSteps: o.maxSteps, maxEpochs: o.maxEpochs, specRef, pretrained, seedsAfter: o.seeds.length - 1 - o.seeds.indexOf(seed) });
      seeds.push(r);
      await loadWeights(model, backend, r.bestCheckpoint);
      progress.message(`seed ${seed}: evaluating the best weights on the test split (${model.settings.eval.conditions.join(', ')})…`);
      const dmfd = dmfdRecorder(model.stats);
      const conditions = await evaluateConditions(model, backend, o.data.test, model.settings.eval.conditions, undefined, dmfd.detail);
      dmfd.write(join(dir, `seed-${seed}`));
      results.push({ seed, conditions });
      writeJsonAtomic(join(dir, `seed-${seed}`, 'results.json'), { seed, best_epoch: r.bestEpoch, best_valid_l1: r.bestValidL1, conditions });
      progress.message(`seed ${seed}: best epoch ${r.bestEpoch}, valid L1 ${r.bestValidL1.toFixed(4)}\n${conditionTable(conditions)}`);
    } finally {
      await backend.dispose();
    }
  }
  const table = seedTable(results);
  writeJsonAtomic(join(dir, 'results.json'), { seeds: results, mean_std: meanStd(results) }); // a sweep takes its presence as "finished"
  writeFileSync(join(dir, 'results.csv'), results.map((r, i) => conditionCsv(r.conditions, { seed: r.seed }).split('\n').slice(i === 0 ? 0 : 1).join('\n')).join(''));
  if (results.length > 1) progress.message(`mean ± std over ${results.length} seeds (×100 for accuracies/F1, as in the paper)\n${table}`);
  return { dir, seeds, results, table };
}

