// `smcirc train`: compile a spec, train it per seed on MMSA data or the built-in synthetic set, write a run folder.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { createBackend, type BackendName } from '../../runtime/backends/index.js';
import { loadRunData } from '../../runtime/train/data-source.js';
import { readRunManifest, trainRun } from '../../runtime/train/run.js';
import { UsageError } from '../errors.js';
import { defaultRunDir, defaultSpec } from '../paths.js';
import { terminalProgress } from '../progress.js';
import { parseSeeds } from '../seeds.js';
import { printDiagnostics } from '../diagnostics-output.js';

export interface TrainCommandOptions {
  data?: string;
  set: string[];
  seed?: string;
  seeds?: string;
  out?: string;
  resume?: string;
  backend: BackendName;
  maxSteps?: number;
  maxEpochs?: number;
  dumpWgsl?: string;
  validate?: boolean;
  quiet?: boolean;
}

export async function runTrain(specArg: string | undefined, o: TrainCommandOptions): Promise<number> {
  let spec = specArg ?? defaultSpec();
  let overrides = o.set;
  let dir = o.out;
  let dataPath = o.data;
  let seeds: number[] | undefined;
  if (o.resume) {
    const man = readRunManifest(o.resume);
    if (!man) throw new UsageError(`${o.resume} is not a run folder (no run.json)`, 'pass the folder that `smcirc train` printed');
    spec = join(o.resume, man.spec);
    overrides = [...man.overrides, ...o.set];
    dir = o.resume;
    seeds = man.seeds;
    if (!dataPath && man.data !== 'synthetic') dataPath = man.data;
  } else if (existsSync(spec) && statSync(spec).isDirectory()) {
    const bundle = join(spec, 'manifest.json');
    if (!existsSync(bundle)) throw new UsageError(`${spec} is a folder but not a bundle (no manifest.json)`, 'pass a .smcir spec or a folder made by `smcirc compile`');
    const { loadBundleSpec } = await import('../../runtime/bundle/load.js');
    const b = loadBundleSpec(spec);
    spec = b.spec;
    overrides = [...b.overrides, ...o.set];
  }
  const model: CompiledModel = compileModel(spec, { overrides });
  printDiagnostics(model.diagnostics, model.sources);
  seeds ??= o.seeds ? parseSeeds(o.seeds) : o.seed ? parseSeeds(o.seed) : model.settings.train.seeds;
  const data = loadRunData(model, dataPath);
  const progress = terminalProgress(process.stderr, o.quiet);
  const runDir = dir ?? defaultRunDir(spec);
  progress.message(`run folder: ${runDir}  (backend: ${o.backend}, data: ${dataPath ?? 'built-in synthetic'})`);
  const summary = await trainRun({
    model,
    makeBackend: () => createBackend(o.backend, model, { dumpWgslDir: o.dumpWgsl, validate: o.validate }),
    data,
    dataSource: dataPath ?? 'synthetic',
    seeds,
    dir: runDir,
    overrides,
    progress,
    resume: !!o.resume,
    maxSteps: o.maxSteps,
    maxEpochs: o.maxEpochs,
  });
  process.stdout.write(`${summary.dir}\n`);
  return 0;
}
