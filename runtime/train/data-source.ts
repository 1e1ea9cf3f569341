// Where a run's data comes from: an MMSA pickle / converted folder, or the built-in synthetic set shaped by the
// spec's inputs; and how a batch of rows becomes the named tensors the graphs read.

import type { CompiledModel } from '../../compiler/compile.js';
import { DataError, loadDataset, makeSyntheticDataset, type Dataset, type ModalityArrays } from '../data/index.js';
import type { Tensors } from '../backends/backend.js';

export const MODALITIES = ['text', 'vision', 'audio'] as const;

/** Which spec input is which modality: inputs named text/vision/audio; the (single) target is the label. */
export function roles(model: CompiledModel): { target: string } {
  for (const m of MODALITIES) {
    if (!model.inputs.has(m)) {
      throw new DataError({ code: 'SMC6030', message: `the spec has no input \`${m}\``, location: model.specPath, hint: 'smcirc feeds inputs named text, vision and audio, and one target' });
    }
  }
  const targets = [...model.inputs.keys()].filter((k) => !MODALITIES.includes(k as (typeof MODALITIES)[number]));
  if (targets.length !== 1) {
    throw new DataError({ code: 'SMC6030', message: `the spec must declare exactly one target besides text, vision and audio, found ${targets.length}`, location: model.specPath });
  }
  return { target: targets[0]! };
}

export function loadRunData(model: CompiledModel, dataPath: string | undefined, seedOverride?: number): Dataset {
  const shape = (m: string) => model.inputs.get(m)! as [number, number];
  if (!dataPath) {
    const s = model.settings.data.synthetic;
    return makeSyntheticDataset({
      seed: seedOverride ?? s.seed,
      nTrain: s.n_train,
      nValid: s.n_valid,
      nTest: s.n_test,
      textLen: shape('text')[0],
      textDim: shape('text')[1],
      visionLen: shape('vision')[0],
      visionDim: shape('vision')[1],
      audioLen: shape('audio')[0],
      audioDim: shape('audio')[1],
      missing: s.missing_rate > 0 ? { rate: s.missing_rate, kinds: ['zero', 'noise', 'drop'] } : undefined,
    });
  }
  const { target } = roles(model);
  const keys = model.settings.data.keys;
  return loadDataset(dataPath, {
    keys: { text: keys.text, vision: keys.vision, audio: keys.audio, label: keys[target] },
    expect: { text: shape('text'), vision: shape('vision'), audio: shape('audio') },
  });
}

/** The tensors of one batch; a short batch is padded with zero rows up to `batch` (their outputs are ignored). */
export function batchTensors(rows: ModalityArrays, batch: number, target: string): Tensors {
  const pad = (a: Float32Array, per: number) => {
    if (rows.n === batch) return a;
    const out = new Float32Array(batch * per);
    out.set(a.subarray(0, rows.n * per));
    return out;
  };
  const t: Tensors = new Map();
  t.set('text', pad(rows.text, rows.textShape[0] * rows.textShape[1]));
  t.set('vision', pad(rows.vision, rows.visionShape[0] * rows.visionShape[1]));
  t.set('audio', pad(rows.audio, rows.audioShape[0] * rows.audioShape[1]));
  t.set(target, pad(rows.labels, 1));
  return t;
}
