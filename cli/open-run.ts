// Opens what `eval` and `diagnose` act on: a run folder (its spec, overrides, data and a seed's best weights)
// or a bare .safetensors checkpoint with --spec.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel, type CompiledModel } from '../compiler/compile.js';
import { describeModel } from '../compiler/bundle/model-abi.js';
import type { ModelAbi } from '../runtime/abi/model.js';
import { readRunManifest } from '../runtime/train/run.js';
import { UsageError } from './errors.js';

export interface OpenedRun {
  model: CompiledModel;
  /** Every seed's best weights (the one asked for with --seed; a bare checkpoint's alone). */
  checkpoints: { seed: number; path: string }[];
  /** The model as the runtime sees it (no GPU programs: a backend lowers them for its adapter). */
  abi: ModelAbi;
  overrides: string[];
  checkpoint: string;
  /** Data the run trained on (undefined: synthetic). */
  data?: string;
  seed: number;
}

export function openRun(target: string, o: { spec?: string; set: string[]; seed?: number; evalBatch?: number; dmfdStats?: 'batch' | 'population' }): OpenedRun {
  if (!existsSync(target)) throw new UsageError(`${target} does not exist`, 'pass a run folder made by `smcirc train`, or a .safetensors checkpoint with --spec');
  const compile = (spec: string, overrides: string[]) => compileModel(spec, { overrides, evalBatch: o.evalBatch, dmfdStats: o.dmfdStats });
  if (statSync(target).isDirectory()) {
    const man = readRunManifest(target);
    if (!man) throw new UsageError(`${target} is not a run folder (no run.json)`, 'pass the folder that `smcirc train` printed');
    const seeds = o.seed !== undefined ? [o.seed] : man.seeds;
    const checkpoints = seeds.map((seed) => ({ seed, path: join(target, `seed-${seed}`, 'best.safetensors') })).filter((c) => existsSync(c.path));
    if (o.seed !== undefined && !checkpoints.length) throw new UsageError(`${target} has no checkpoint for seed ${o.seed}`, `its seeds are ${man.seeds.join(', ')}; pick one with --seed`);
    if (!checkpoints.length) throw new UsageError(`${target} has no trained seed yet (no seed-N/best.safetensors)`, 'train it first, or resume it with `smcirc train --resume`');
    const seed = checkpoints[0]!.seed;
    const checkpoint = checkpoints[0]!.path;
    const overrides = [...man.overrides, ...o.set];
    const model = compile(o.spec ?? join(target, man.spec), overrides);
    return { model, abi: describeModel(model, overrides), overrides, checkpoints, checkpoint, data: man.data === 'synthetic' ? undefined : man.data, seed };
  }
  if (!o.spec) throw new UsageError('a bare checkpoint needs the spec it was trained with', 'add --spec path/to/spec.smcir (and the same --set overrides)');
  const model = compile(o.spec, o.set);
  return { model, abi: describeModel(model, o.set), overrides: o.set, checkpoints: [{ seed: o.seed ?? 1111, path: target }], checkpoint: target, seed: o.seed ?? 1111 };
}
