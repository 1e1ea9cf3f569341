// `smcirc train`: train a spec (compiled for the adapter at hand) or a bundle (its own kernels, without the
// compiler) per seed on MMSA data or the built-in synthetic set, and write a run folder.

import { join, resolve } from 'node:path';
import { isBundle, openBundle, type OpenedBundle } from '../../runtime/bundle/load.js';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { describeModel } from '../../compiler/bundle/model-abi.js';
import type { ModelAbi } from '../../runtime/abi/model.js';
import type { Backend } from '../../runtime/backends/backend.js';
import { openBackend, resolveBackend, type BackendChoice, type BackendName } from '../../runtime/backends/index.js';
import { loadRunData } from '../../runtime/train/data-source.js';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { RUN_MANIFEST, trainRun } from '../../runtime/train/run.js';
import { planResume, ResumeRefused, type ResumePlan } from '../../runtime/train/resume.js';
import { loadInit, parseInit, type InitRecord, type LoadedInit } from '../../runtime/train/pretrained.js';
import { UsageError } from '../errors.js';
import { CheckpointError } from '../../runtime/train/safetensors.js';
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
  /** A bundle: compile its spec again for this adapter instead of running its own kernels. */
  recompile?: boolean;
  /** Pretrained weights per member: `bert=path/to/bert-base-uncased`. */
  init?: string[];
  /** false: `--no-route`, every generator on every sample. */
  route?: boolean;
  quiet?: boolean;
}

/** The model to train and how to make a backend for it: a bundle's own programs on the GPU need no compiler. */
function modelFor(spec: string, overrides: string[], bundle: OpenedBundle | undefined, backend: BackendName, o: TrainCommandOptions): { model: ModelAbi; makeBackend: () => Promise<Backend> } {
  const ownKernels = bundle !== undefined && backend === 'gpu' && !o.recompile;
  let compiled: CompiledModel | undefined;
  if (!ownKernels || o.validate) {
    compiled = compileModel(spec, { overrides, route: o.route });
    printDiagnostics(compiled.diagnostics, compiled.sources);
  }
  if (ownKernels && !o.validate) {
    return {
      model: bundle.model,
      makeBackend: async () => {
        const { GpuBackend } = await import('../../runtime/backends/gpu.js');
        return GpuBackend.create(bundle.model, { dumpWgslDir: o.dumpWgsl });
      },
    };
  }
  const c = compiled!;
  const opts = { overrides, dumpWgslDir: o.dumpWgsl, validate: o.validate, bundle: ownKernels ? bundle.model : undefined };
  return { model: ownKernels ? bundle.model : describeModel(c, overrides), makeBackend: async () => (await openBackend(backend, c, opts)).backend };
}

/** sha256 of a data file (streamed), or of a converted folder's manifest (its chunks carry their own hashes). */
function dataFileSha256(path: string): string | undefined {
  const file = statSync(path).isDirectory() ? join(path, 'manifest.json') : path;
  if (!existsSync(file)) return undefined;
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 22);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** `--init member=folder` (or, resuming, what run.json recorded, which must still have the same hash). */
function pretrainedFor(model: ModelAbi, given: string[], recorded: InitRecord[]): LoadedInit[] {
  const sources = given.map((g) => {
    const s = parseInit(g);
    if (!s) throw new UsageError(`--init ${g}: expected member=folder`, 'e.g. --init bert=path/to/bert-base-uncased (a Hugging Face folder with config.json and the weights)');
    return { ...s, path: resolve(s.path) };
  });
  const loaded = [...sources, ...recorded].map((s) => loadInit(model, s));
  recorded.forEach((r, i) => {
    const now = loaded[sources.length + i]!.record.sha256;
    if (now !== r.sha256) throw new UsageError(`the run started from ${r.file} with sha256 ${r.sha256}; that file now has ${now}`, 'restore the checkpoint the run was started with, or start a new run');
  });
  return loaded;
}

export async function runTrain(specArg: string | undefined, o: TrainCommandOptions): Promise<number> {
  let spec = specArg ?? defaultSpec();
  let overrides = o.set;
  let dir = o.out;
  let dataPath = o.data ? resolve(o.data) : undefined;
  let seeds: number[] | undefined;
  let maxEpochs = o.maxEpochs;
  let maxSteps = o.maxSteps;
  let bundle: OpenedBundle | undefined;
  let recorded: ResumePlan['backend'];
  let resumedInit: InitRecord[] = [];
  if (o.resume) {
    const given = [specArg && 'a spec', o.set.length && '--set', o.data && '--data', o.seed && '--seed', o.seeds && '--seeds', o.init?.length && '--init'].filter((x): x is string => !!x);
    let plan: ResumePlan;
    try {
      plan = planResume(o.resume, given, { maxEpochs, maxSteps });
    } catch (e) {
      if (e instanceof ResumeRefused) throw new UsageError(e.message, e.hint);
      throw e;
    }
    ({ spec, overrides, seeds, data: dataPath, maxEpochs, maxSteps, backend: recorded } = plan);
    resumedInit = plan.init;
    dir = o.resume;
  } else if (isBundle(spec)) {
    const b = openBundle(spec);
    spec = b.spec;
    overrides = [...b.model.spec.overrides, ...o.set];
    // --set changes the program: the bundle's spec is compiled again with the extra overrides
    bundle = o.set.length ? undefined : b;
  } else if (o.recompile) {
    throw new UsageError('--recompile applies to a bundle', 'pass a bundle folder made by `smcirc compile`');
  }
  if (!o.resume && dir && existsSync(join(dir, RUN_MANIFEST))) {
    throw new CheckpointError('SMC5017', `${dir} already holds a run`, `continue it with \`smcirc train --resume ${dir}\`, or choose another --out`);
  }
  const resumeOn = recorded && !o.backendGiven ? recorded : o.backend;
  const backendName = await resolveBackend(resumeOn, (l) => process.stderr.write(`${l}\n`));
  if (recorded && recorded !== backendName) {
    process.stderr.write(`note: the run trained on the ${recorded} backend and continues on ${backendName}: it is no longer bit-exact with an uninterrupted run\n`);
  }
  const { model, makeBackend } = modelFor(spec, overrides, bundle, backendName, o);
  seeds ??= o.seeds ? parseSeeds(o.seeds) : o.seed ? parseSeeds(o.seed) : model.settings.train.seeds;
  const init = pretrainedFor(model, o.init ?? [], resumedInit);
  const data = loadRunData(model, dataPath);
  const progress = terminalProgress(process.stderr, o.quiet);
  const runDir = dir ?? defaultRunDir(spec);
  progress.message(`run folder: ${runDir}  (backend: ${backendName}${bundle && backendName === 'gpu' && !o.recompile ? ', the bundle’s own kernels' : ''}, data: ${dataPath ?? 'built-in synthetic'})`);
  const summary = await trainRun({
    model,
    makeBackend,
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
    init,
    provenance: { command: process.argv.slice(2), dataSha256: dataPath ? dataFileSha256(dataPath) : undefined },
  });
  process.stdout.write(`${summary.dir}\n`);
  return 0;
}
