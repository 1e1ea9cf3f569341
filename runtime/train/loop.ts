// Training one seed: epochs of shuffled full batches, validation L1 after each epoch, early stopping with the
// best weights kept, atomic checkpoints (resumable), and a clean stop that names the epoch, step and batch when
// the loss turns NaN or Inf.

import { existsSync } from 'node:fs';
import { TrainingHistory } from './history.js';
import { specHash } from '../abi/manifest.js';
import { removeOrphanTemps } from './safetensors.js';
import { fraction, METRIC_NAMES } from '../eval/conditions.js';
import { mmsaRegressionMetrics } from '../metrics/mmsa-metrics.js';
import { join } from 'node:path';
import { specName, type ModelAbi } from '../abi/model.js';
import { initParams, initTrainState } from '../abi/init.js';
import { batchCount, iterateBatches } from '../data/index.js';
import type { Backend, Tensors } from '../backends/backend.js';
import { predictSplit } from '../eval/predict.js';
import { batchTensors, roles, type RunData } from './data-source.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { checkpointState, LAST_FILE, MODEL_FILE, paramTensors, resumeMetadata } from './checkpoints.js';
import { makeDirs } from '../fs.js';

export { loadWeights } from './checkpoints.js';

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
  /** An upper bound on the rest of the run (every epoch left, of this seed and the seeds after it), in seconds. */
  runEtaSeconds?: number;
}

export interface ProgressSink {
  /** Called after every step of an epoch. */
  step(info: { epoch: number; step: number; steps: number; loss: number; samplesPerSecond: number; etaSeconds: number }): void;
  epoch(r: EpochReport): void;
  message(line: string): void;
}

export interface SeedRunOptions {
  model: ModelAbi;
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
  /** Seeds still to train after this one (for the run's ETA). */
  seedsAfter?: number;
  /** Pretrained values that replace the initialisation of these parameters (`--init`). */
  pretrained?: ReadonlyMap<string, Float32Array>;
}

export interface SeedRunResult {
  seed: number;
  bestEpoch: number;
  bestValidL1: number;
  bestCheckpoint: string;
}

/** The dropout seed of a train step: a hash of the run's seed and the global step. */
const stepSeed = (seed: number, step: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + step * 2654435761) % 16777216 >>> 0;

export async function trainSeed(o: SeedRunOptions): Promise<SeedRunResult> {
  const { model, backend, data, seed, dir, progress } = o;
  const t = model.settings.train;
  const { target } = roles(model);
  const B = t.batch_size;
  makeDirs(dir);
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
    const want = [...model.parameters, ...model.state.filter((b) => b.kind !== 'param')].map((b) => ({ name: b.name, shape: b.shape }));
    state = checkpointState(ck.tensors, lastPath, want);
    const m = resumeMetadata(ck.metadata, lastPath);
    startEpoch = m.epoch; // epochs are 1-based in checkpoints and logs: the next 0-based index is the last one done
    step = m.step;
    best = { l1: m.bestValidL1, epoch: m.bestEpoch - 1 };
    badEpochs = m.badEpochs;
    progress.message(`resuming seed ${seed} after epoch ${startEpoch} (step ${step})`);
  } else {
    const params = initParams(model.parameters, seed);
    for (const [name, v] of o.pretrained ?? []) params.set(name, v);
    state = initTrainState(model.state, params);
  }
  await backend.setState(state);
  makeDirs(dir);
  removeOrphanTemps(dir);
  const history = new TrainingHistory(dir, o.resume && existsSync(lastPath) ? { step, epoch: startEpoch } : undefined);
  // The first step of a seed also compiles the GPU kernels (lavapipe compiles each pipeline when it first runs):
  // throughput excludes it, and the progress says so.
  let firstStep = true;
  const maxEpochs = o.maxEpochs ?? t.max_epochs;
  const steps = batchCount(data.train.n, B, true);
  let epoch = startEpoch;
  // A resumed seed that had stopped early, or used up --max-steps, is finished.
  let done = (t.early_stop > 0 && badEpochs >= t.early_stop) || (o.maxSteps !== undefined && step >= o.maxSteps);
  for (; epoch < maxEpochs && !done; epoch++) {
    const t0 = performance.now();
    let sum = 0;
    let count = 0;
    let timed = { samples: 0, seconds: 0 };
    for (const batch of iterateBatches(data.train, B, { shuffle: true, seed, epoch, dropLast: true })) {
      step++;
      const feeds = batchTensors(batch, B, target);
      if (t.inject_nan_at_step > 0 && step === t.inject_nan_at_step) feeds.get('text')![0] = Number.NaN;
      if (firstStep && backend.name === 'gpu') progress.message(`seed ${seed}: first step (compiles the GPU kernels on first use)…`);
      const ts = performance.now();
      const { loss, gradNorm } = await backend.trainStep(feeds, stepSeed(seed, step));
      const stepSeconds = (performance.now() - ts) / 1000;
      if (firstStep) firstStep = false;
      else timed = { samples: timed.samples + B, seconds: timed.seconds + stepSeconds };
      if (!Number.isFinite(loss)) {
        throw new TrainingStopped(
          'SMC5002',
          `the loss became ${Number.isNaN(loss) ? 'NaN' : 'infinite'} at epoch ${epoch + 1}, step ${step}, batch ${batch.index + 1} of ${steps} (seed ${seed})`,
          `the last good checkpoint is ${existsSync(lastPath) ? lastPath : 'not written yet (the first epoch did not finish)'}; lower the learning rate (--set train.lr=...) or check the data for NaN/Inf`,
        );
      }
      sum += loss;
      count++;
      const sps = timed.seconds > 0 ? timed.samples / timed.seconds : B / Math.max(stepSeconds, 1e-9);
      history.steps.append({ epoch: epoch + 1, step, loss, grad_norm: gradNorm, lr: t.lr, samples_per_s: timed.seconds > 0 ? sps : '' });
      progress.step({ epoch: epoch + 1, step: count, steps, loss: sum / count, samplesPerSecond: sps, etaSeconds: ((steps - count) * B) / sps });
      if (o.maxSteps !== undefined && step >= o.maxSteps) {
        done = true;
        break;
      }
    }
    // validation: L1 over the whole validation split (and every MMSA metric, for the history)
    const validOut = (await predictSplit(model, backend, data.valid)).outputs;
    const pred = validOut.get('pred');
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
      writeSafetensors(join(dir, MODEL_FILE), paramTensors(model, state, ['param']), { format: 'pt', epoch: String(epoch + 1), valid_l1: String(l1), seed: String(seed), spec: o.specRef ?? specName(model), spec_sha256: specHash(model.spec.files) });
    } else {
      badEpochs++;
    }
    const secs = (performance.now() - t0) / 1000;
    const epochSps = timed.seconds > 0 ? timed.samples / timed.seconds : (count * B) / secs;
    const vm = mmsaRegressionMetrics(pred, data.valid.labels);
    history.epochs.append({
      epoch: epoch + 1, step, train_loss: count ? sum / count : Number.NaN, valid_l1: l1,
      ...(Object.fromEntries(METRIC_NAMES.map((m) => [`valid_${m}`, vm[m]])) as Record<`valid_${(typeof METRIC_NAMES)[number]}`, number>),
      flag_v: fraction(validOut.get('state_v'), (v) => v >= 1), flag_a: fraction(validOut.get('state_a'), (v) => v >= 1),
      best: improved ? 1 : 0, seconds: secs, samples_per_s: epochSps,
    });
    // the checkpoint comes after the epoch's history row: a resume drops rows past its checkpoint, so a kill between
    // the two loses nothing
    writeSafetensors(lastPath, paramTensors(model, state, ['param', 'opt']), {
      format: 'pt', epoch: String(epoch + 1), step: String(step), best_valid_l1: String(best.l1), best_epoch: String(best.epoch + 1), bad_epochs: String(badEpochs), seed: String(seed),
    });
    const epochsLeft = maxEpochs - (epoch + 1) + (o.seedsAfter ?? 0) * maxEpochs;
    progress.epoch({ epoch: epoch + 1, trainLoss: count ? sum / count : Number.NaN, validL1: l1, best: improved, samplesPerSecond: epochSps, seconds: secs, runEtaSeconds: epochsLeft * secs });
    if (badEpochs >= t.early_stop && t.early_stop > 0) {
      progress.message(`early stop: no validation improvement for ${badEpochs} epochs`);
      epoch++;
      break;
    }
  }
  return { seed, bestEpoch: best.epoch + 1, bestValidL1: best.l1, bestCheckpoint: join(dir, MODEL_FILE) };
}

