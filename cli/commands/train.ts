// `smcirc train`: compile a spec, train it per seed on MMSA data or the built-in synthetic set, write a run folder.

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openBundle, type OpenedBundle } from '../../runtime/bundle/load.js';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { createBackend, resolveBackend, type BackendChoice } from '../../runtime/backends/index.js';
import { loadRunData } from '../../runtime/train/data-source.js';
import { readRunManifest, RUN_MANIFEST, trainRun } from '../../runtime/train/run.js';
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
  backend: BackendChoice;
  /** True when --backend was given on the command line (not the default): a resumed run then switches backend. */
  backendGiven?: boolean;
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
  let dataPath = o.data ? resolve(o.data) : undefined;
  let seeds: number[] | undefined;
  let maxEpochs = o.maxEpochs;
  let maxSteps = o.maxSteps;
  let plans: OpenedBundle['plans'];
  if (o.resume) {
    const man = readRunManifest(o.resume);
    if (!man) throw new UsageError(`${o.resume} is not a run folder (no run.json)`, 'pass the folder that `smcirc train` printed');
    if (o.set.length || o.data || o.seed || o.seeds || specArg) {
      throw new UsageError('--resume continues a run exactly as it was started', 'drop the spec, --set, --data and seed options; to change them, start a new run');
    }
    spec = join(o.resume, man.spec);
    overrides = man.overrides;
    dir = o.resume;
    seeds = man.seeds;
    dataPath = man.data === 'synthetic' ? undefined : man.data;
    maxEpochs ??= man.max_epochs;
    maxSteps ??= man.max_steps;
  } else if (existsSync(spec) && statSync(spec).isDirectory()) {
    const b = openBundle(spec);
    spec = b.spec;
    overrides = [...b.overrides, ...o.set];
    plans = o.set.length ? undefined : b.plans;
  }
  if (!o.resume && dir && existsSync(join(dir, RUN_MANIFEST))) {
    throw new UsageError(`${dir} already holds a run`, `continue it with \`smcirc train --resume ${dir}\`, or choose another --out`);
  }
  const model: CompiledModel = compileModel(spec, { overrides });
  printDiagnostics(model.diagnostics, model.sources);
  seeds ??= o.seeds ? parseSeeds(o.seeds) : o.seed ? parseSeeds(o.seed) : model.settings.train.seeds;
  const data = loadRunData(model, dataPath);
  const progress = terminalProgress(process.stderr, o.quiet);
  const runDir = dir ?? defaultRunDir(spec);
  const recorded = o.resume ? readRunManifest(o.resume)?.backend : undefined;
  const resumeOn = (recorded === 'gpu' || recorded === 'reference') && !o.backendGiven ? recorded : o.backend;
  const backendName = await resolveBackend(resumeOn, (l) => process.stderr.write(`${l}\n`));
  if (recorded && recorded !== backendName) {
    process.stderr.write(`note: the run trained on the ${recorded} backend and continues on ${backendName}: it is no longer bit-exact with an uninterrupted run\n`);
  }
  progress.message(`run folder: ${runDir}  (backend: ${backendName}, data: ${dataPath ?? 'built-in synthetic'})`);
  const summary = await trainRun({
    model,
    makeBackend: () => createBackend(backendName, model, { dumpWgslDir: o.dumpWgsl, validate: o.validate, plans }),
    data,
    dataSource: dataPath ?? 'synthetic',
    backend: backendName,
    seeds,
    dir: runDir,
    overrides,
    progress,
    resume: !!o.resume,
    maxSteps,
    maxEpochs,
  });
  process.stdout.write(`${summary.dir}\n`);
  return 0;
}
