// Training one seed: epochs of shuffled full batches, validation L1 after each epoch, early stopping with the
// best weights kept, atomic checkpoints (resumable), and a clean stop that names the epoch, step and batch when
// the loss turns NaN or Inf.

import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CompiledModel } from '../../compiler/compile.js';
import { initParams } from '../../compiler/init.js';
import { initTrainState } from '../../compiler/train-step.js';
import { batchCount, iterateBatches } from '../data/index.js';
import type { Backend, Tensors } from '../backends/backend.js';
import { predictSplit } from '../eval/predict.js';
import { batchTensors, roles, type RunData } from './data-source.js';
import { CheckpointError, readSafetensors, writeSafetensors } from './safetensors.js';

export class TrainingStopped extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  validL1: number;
  best: boolean;
  samplesPerSecond: number;
  seconds: number;
}

export interface ProgressSink {
  /** Called after every step of an epoch. */
  step(info: { epoch: number; step: number; steps: number; loss: number; samplesPerSecond: number; etaSeconds: number }): void;
  epoch(r: EpochReport): void;
  message(line: string): void;
}

export interface SeedRunOptions {
  model: CompiledModel;
  backend: Backend;
  data: RunData;
  seed: number;
  dir: string;
  progress: ProgressSink;
  resume?: boolean;
  /** Stop after this many train steps in total (smoke tests); the epoch in progress is then validated. */
  maxSteps?: number;
  maxEpochs?: number;
  /** The spec as the checkpoint metadata names it: a path relative to the seed folder (the run's own copy). */
  specRef?: string;
}

export interface SeedRunResult {
  seed: number;
  bestEpoch: number;
  bestValidL1: number;
  bestCheckpoint: string;
}

const MODEL_FILE = 'best.safetensors';
const LAST_FILE = 'last.safetensors';

/** Parameters of the state map, as safetensors entries with their shapes. */
function paramTensors(model: CompiledModel, state: Tensors, kinds: ('param' | 'opt')[]): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  if (kinds.includes('param')) for (const p of model.train.graph.params) out.set(p.name, { shape: p.shape, data: state.get(p.name)! });
  if (kinds.includes('opt')) for (const s of model.train.state) if (s.kind !== 'param') out.set(s.name, { shape: s.shape, data: state.get(s.name)! });
  return out;
}

/** Mixes a run seed and a step number into a dropout seed (exact in f32: below 2^24). */
const stepSeed = (seed: number, step: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + step * 2654435761) % 16777216 >>> 0;

export async function trainSeed(o: SeedRunOptions): Promise<SeedRunResult> {
  const { model, backend, data, seed, dir, progress } = o;
  const t = model.settings.train;
  const { target } = roles(model);
  const B = t.batch_size;
  mkdirSync(dir, { recursive: true });
  if (data.train.n < B) {
    throw new TrainingStopped('SMC5001', `the training split has ${data.train.n} samples, fewer than one batch of ${B}`, `lower the batch size, e.g. --set train.batch_size=${Math.max(1, data.train.n)}`);
  }
  let state: Tensors;
  let startEpoch = 0;
  let step = 0;
  let best = { l1: Infinity, epoch: -1 };
  let badEpochs = 0;
  const lastPath = join(dir, LAST_FILE);
  if (o.resume && existsSync(lastPath)) {
    const ck = readSafetensors(lastPath);
    const want = [...model.train.graph.params, ...model.train.state.filter((b) => b.kind !== 'param')].map((b) => ({ name: b.name, shape: b.shape }));
    state = checkpointState(ck.tensors, lastPath, want);
    const m = resumeMetadata(ck.metadata, lastPath);
    startEpoch = m.epoch; // epochs are 1-based in checkpoints and logs: the next 0-based index is the last one done
    step = m.step;
    best = { l1: m.bestValidL1, epoch: m.bestEpoch - 1 };
    badEpochs = m.badEpochs;
    progress.message(`resuming seed ${seed} after epoch ${startEpoch} (step ${step})`);
  } else {
    state = initTrainState(model.train, initParams(model.train.graph.params, seed));
  }
  await backend.setState(state);
  const maxEpochs = o.maxEpochs ?? t.max_epochs;
  const steps = batchCount(data.train.n, B, true);
  let epoch = startEpoch;
  // A resumed seed that had stopped early, or used up --max-steps, is finished.
  let done = (t.early_stop > 0 && badEpochs >= t.early_stop) || (o.maxSteps !== undefined && step >= o.maxSteps);
  for (; epoch < maxEpochs && !done; epoch++) {
    const t0 = performance.now();
    let sum = 0;
    let count = 0;
    for (const batch of iterateBatches(data.train, B, { shuffle: true, seed, epoch, dropLast: true })) {
      step++;
      const feeds = batchTensors(batch, B, target);
      if (t.inject_nan_at_step > 0 && step === t.inject_nan_at_step) feeds.get('text')![0] = Number.NaN;
      const { loss } = await backend.trainStep(feeds, stepSeed(seed, step));
      if (!Number.isFinite(loss)) {
        throw new TrainingStopped(
          'SMC5002',
          `the loss became ${Number.isNaN(loss) ? 'NaN' : 'infinite'} at epoch ${epoch + 1}, step ${step}, batch ${batch.index + 1} of ${steps} (seed ${seed})`,
          `the last good checkpoint is ${existsSync(lastPath) ? lastPath : 'not written yet (the first epoch did not finish)'}; lower the learning rate (--set train.lr=...) or check the data for NaN/Inf`,
        );
      }
      sum += loss;
      count++;
      const secs = (performance.now() - t0) / 1000;
      const sps = (count * B) / Math.max(secs, 1e-9);
      progress.step({ epoch: epoch + 1, step: count, steps, loss: sum / count, samplesPerSecond: sps, etaSeconds: ((steps - count) * B) / sps });
      if (o.maxSteps !== undefined && step >= o.maxSteps) {
        done = true;
        break;
      }
    }
    // validation: L1 over the whole validation split
    const pred = (await predictSplit(model, backend, data.valid)).outputs.get('pred');
    if (!pred) throw new TrainingStopped('SMC5003', 'the model has no output `pred`', 'declare `output pred = ...` in the model’s forward');
    let l1 = 0;
    for (let i = 0; i < data.valid.n; i++) l1 += Math.abs(pred[i]! - data.valid.labels[i]!);
    l1 = Math.round((l1 / Math.max(1, data.valid.n)) * 1e4) / 1e4;
    if (!Number.isFinite(l1)) {
      // The weights themselves went bad (the step's loss was still finite): keep the last good checkpoint.
      throw new TrainingStopped(
        'SMC5002',
        `the validation L1 became ${Number.isNaN(l1) ? 'NaN' : 'infinite'} after epoch ${epoch + 1} (step ${step}, seed ${seed}): the weights diverged`,
        `the last good checkpoint is ${existsSync(lastPath) ? lastPath : 'not written yet (the first epoch did not finish)'}; lower the learning rate (--set train.lr=...)`,
      );
    }
    state = await backend.getState();
    const improved = l1 < best.l1 - 1e-6;
    if (improved) {
      best = { l1, epoch };
      badEpochs = 0;
      writeSafetensors(join(dir, MODEL_FILE), paramTensors(model, state, ['param']), { format: 'pt', epoch: String(epoch + 1), valid_l1: String(l1), seed: String(seed), spec: o.specRef ?? basename(model.specPath) });
    } else {
      badEpochs++;
    }
    writeSafetensors(lastPath, paramTensors(model, state, ['param', 'opt']), {
      format: 'pt', epoch: String(epoch + 1), step: String(step), best_valid_l1: String(best.l1), best_epoch: String(best.epoch + 1), bad_epochs: String(badEpochs), seed: String(seed),
    });
    const secs = (performance.now() - t0) / 1000;
    progress.epoch({ epoch: epoch + 1, trainLoss: count ? sum / count : Number.NaN, validL1: l1, best: improved, samplesPerSecond: (count * B) / secs, seconds: secs });
    if (badEpochs >= t.early_stop && t.early_stop > 0) {
      progress.message(`early stop: no validation improvement for ${badEpochs} epochs`);
      epoch++;
      break;
    }
  }
  return { seed, bestEpoch: best.epoch + 1, bestValidL1: best.l1, bestCheckpoint: join(dir, MODEL_FILE) };
}

/** The resume fields of a last-epoch checkpoint's metadata (1-based epochs), checked: edited or damaged metadata
 *  is refused by name rather than trusted. */
function resumeMetadata(m: Record<string, string>, path: string): { epoch: number; step: number; bestValidL1: number; bestEpoch: number; badEpochs: number } {
  const field = (key: string, ok: (n: number) => boolean): number => {
    const n = Number(m[key]);
    if (m[key] === undefined || !ok(n)) {
      throw new CheckpointError('SMC5013', `${path}: metadata field \`${key}\` is ${m[key] === undefined ? 'missing' : `"${m[key]}"`}`, 'the checkpoint was edited or damaged; start a new run, or resume from an intact copy');
    }
    return n;
  };
  const whole = (min: number) => (n: number) => Number.isInteger(n) && n >= min;
  const epoch = field('epoch', whole(1));
  return {
    epoch,
    step: field('step', whole(0)),
    bestValidL1: field('best_valid_l1', (n) => n >= 0),
    bestEpoch: field('best_epoch', (n) => whole(1)(n) && n <= epoch),
    badEpochs: field('bad_epochs', (n) => whole(0)(n) && n <= epoch),
  };
}

/** The tensors a checkpoint must hold for this spec (`want`), by name, with their shapes checked. */
function checkpointState(tensors: Map<string, { shape: number[]; data: Float32Array }>, path: string, want: { name: string; shape: number[] }[]): Tensors {
  const state: Tensors = new Map();
  for (const w of want) {
    const t = tensors.get(w.name);
    if (!t) throw new TrainingStopped('SMC5014', `${path} has no tensor \`${w.name}\``, 'the checkpoint was written for another spec; use the spec (and --set overrides) of its run');
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new TrainingStopped('SMC5014', `${path}: \`${w.name}\` has ${t.data.length} values, the spec needs shape [${w.shape.join(', ')}]`, 'use the spec (and --set overrides) of its run');
    state.set(w.name, t.data);
  }
  return state;
}

/** Loads the parameters of a checkpoint into a backend (optimiser state is not needed to evaluate). */
export async function loadWeights(model: CompiledModel, backend: Backend, path: string): Promise<void> {
  const ck = readSafetensors(path);
  await backend.setState(checkpointState(ck.tensors, path, model.train.graph.params.map((p) => ({ name: p.name, shape: p.shape }))));
}
