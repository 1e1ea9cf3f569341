// Checkpoints of a training run: which tensors a model's weights and optimizer state are, reading them back with
// names and shapes checked, the resume fields of a last-epoch checkpoint (validated, 1-based epochs), and loading
// weights into a backend.

import type { ModelAbi } from '../abi/model.js';
import type { Backend, Tensors } from '../backends/backend.js';
import { CheckpointError, readSafetensors } from './safetensors.js';
import { specHash } from '../abi/manifest.js';

export const MODEL_FILE = 'best.safetensors';
export const LAST_FILE = 'last.safetensors';

/** The model's parameters ('param') and/or optimizer state ('opt') as named tensors. */
export function paramTensors(model: ModelAbi, state: Tensors, kinds: ('param' | 'opt')[]): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  if (kinds.includes('param')) for (const p of model.parameters) out.set(p.name, { shape: p.shape, data: state.get(p.name)! });
  if (kinds.includes('opt')) for (const s of model.state) if (s.kind !== 'param') out.set(s.name, { shape: s.shape, data: state.get(s.name)! });
  return out;
}

/** Mixes a run seed and a step number into a dropout seed (exact in f32: below 2^24). */

/** The resume fields of a last-epoch checkpoint's metadata (1-based epochs), checked: edited or damaged metadata
 *  is refused by name rather than trusted. */
export function resumeMetadata(m: Record<string, string>, path: string): { epoch: number; step: number; bestValidL1: number; bestEpoch: number; badEpochs: number } {
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
export function checkpointState(tensors: Map<string, { shape: number[]; data: Float32Array }>, path: string, want: { name: string; shape: number[] }[]): Tensors {
  const state: Tensors = new Map();
  for (const w of want) {
    const t = tensors.get(w.name);
    if (!t) throw new CheckpointError('SMC5014', `${path} has no tensor \`${w.name}\``, 'the checkpoint was written for another spec; use the spec (and --set overrides) of its run');
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new CheckpointError('SMC5014', `${path}: \`${w.name}\` has ${t.data.length} values, the spec needs shape [${w.shape.join(', ')}]`, 'use the spec (and --set overrides) of its run');
    state.set(w.name, t.data);
  }
  return state;
}

/** Loads the parameters of a checkpoint into a backend (optimiser state is not needed to evaluate). A checkpoint
 *  that records another spec (its sha256) is refused, unless `otherSpec` says what to do with it instead. */
export async function loadWeights(model: ModelAbi, backend: Backend, path: string, otherSpec?: (message: string) => void): Promise<void> {
  const ck = readSafetensors(path);
  const recorded = ck.metadata.spec_sha256;
  if (recorded && recorded !== specHash(model.spec.files)) {
    const message = `${path} was trained with another spec (sha256 ${recorded.slice(0, 12)}…; this one is ${specHash(model.spec.files).slice(0, 12)}…)`;
    if (!otherSpec) throw new CheckpointError('SMC5018', message, 'evaluate the run folder itself (it keeps its spec), pass the spec it was trained with, or add --allow-other-spec');
    otherSpec(message);
  }
  await backend.setState(checkpointState(ck.tensors, path, model.parameters.map((p) => ({ name: p.name, shape: p.shape }))));
}
