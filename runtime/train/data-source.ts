// Where a run's data comes from: an MMSA pickle / converted folder, or the built-in synthetic set shaped by the
// spec's inputs; and how a batch of rows becomes the named tensors the graphs read.

import { specName, type ModelAbi } from '../abi/model.js';
import { isModality, MODALITIES } from '../abi/names.js';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ChunkedSplit, DataError, loadDataset, makeSyntheticDataset, openChunked, type DatasetReport, type ModalityArrays, type Split } from '../data/index.js';
import type { Tensors } from '../backends/backend.js';

export { MODALITIES } from '../abi/names.js';

/** Which spec input is which modality: inputs named text/vision/audio; the (single) target is the label. */
export function roles(model: ModelAbi): { target: string } {
  for (const m of MODALITIES) {
    if (!model.inputs.has(m)) {
      throw new DataError({ code: 'SMC6030', message: `the spec has no input \`${m}\``, location: specName(model), hint: 'smcirc feeds inputs named text, vision and audio, and one target' });
    }
  }
  const targets = [...model.inputs.keys()].filter((k) => !isModality(k));
  if (targets.length !== 1) {
    throw new DataError({ code: 'SMC6030', message: `the spec must declare exactly one target besides text, vision and audio, found ${targets.length}`, location: specName(model) });
  }
  return { target: targets[0]! };
}

/** A run's data: validation and test in memory; training in memory or read lazily from a converted folder. */
export interface RunData {
  train: ModalityArrays | ChunkedSplit;
  valid: ModalityArrays;
  test: ModalityArrays;
  report: DatasetReport;
}

/** A split as in-memory arrays (a lazily read split is loaded whole). */
export function splitArrays(data: RunData, split: Split): ModalityArrays {
  const s = data[split];
  return s instanceof ChunkedSplit ? s.loadAll() : s;
}

function checkShapes(model: ModelAbi, split: { textShape: [number, number]; visionShape: [number, number]; audioShape: [number, number]; n: number }, where: string): void {
  for (const m of MODALITIES) {
    const want = model.inputs.get(m)!;
    const got = split[`${m}Shape`];
    if (want[0] !== got[0] || want[1] !== got[1]) {
      throw new DataError({ code: 'SMC6013', message: `train.${m}: expected shape (${split.n}, ${want.join(', ')}), found (${split.n}, ${got.join(', ')})`, location: `${where}: train.${m}`, hint: 'change the spec’s dimensions with --set (e.g. --set T_V=50), or point at the matching file' });
    }
  }
}

export function loadRunData(model: ModelAbi, dataPath: string | undefined, seedOverride?: number): RunData {
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
      textTokens: tokenIds(model) ? { vocab: model.settings.data.text_vocab, length: shape('text')[1] } : undefined,
      visionLen: shape('vision')[0],
      visionDim: shape('vision')[1],
      audioLen: shape('audio')[0],
      audioDim: shape('audio')[1],
      missing: s.missing_rate > 0 ? { rate: s.missing_rate, kinds: ['zero', 'noise', 'drop'] } : undefined,
    });
  }
  const { target } = roles(model);
  if (existsSync(dataPath) && statSync(dataPath).isDirectory() && existsSync(join(dataPath, 'manifest.json'))) {
    // A converted (chunked) folder: training batches are read lazily; validation and test are loaded.
    const ds = openChunked(dataPath);
    checkShapes(model, ds.train, dataPath);
    return { train: ds.train, valid: ds.valid.loadAll(), test: ds.test.loadAll(), report: ds.report };
  }
  const keys = model.settings.data.keys;
  const ds = loadDataset(dataPath, {
    keys: { text: keys.text, vision: keys.vision, audio: keys.audio, label: keys[target] },
    expect: { text: shape('text'), vision: shape('vision'), audio: shape('audio') },
  });
  if (tokenIds(model)) for (const split of ['train', 'valid', 'test'] as const) checkTokenIds(ds[split], model.settings.data.text_vocab, `${dataPath}: ${split}.${keys.text}`);
  return ds;
}

/** Does the text input hold BERT token ids (rows: ids, attention mask, segment ids) rather than features? */
export function tokenIds(model: ModelAbi): boolean {
  if (model.settings.data.text_vocab <= 0) return false;
  const s = model.inputs.get('text');
  if (!s || s.length !== 2 || s[0] !== 3) {
    throw new DataError({ code: 'SMC6013', message: `data { text_vocab } says the text input holds token ids, but it has shape [B, ${s?.join(', ')}]`, location: specName(model), hint: 'declare it as `input text: [B, 3, T_L]` (ids, attention mask, segment ids, as MMSA’s text_bert)' });
  }
  return true;
}

/** Token ids stored as floats (MMSA keeps them int64 or float32): whole numbers within the vocabulary, masks 0/1. */
function checkTokenIds(split: ModalityArrays, vocab: number, where: string): void {
  const L = split.textShape[1];
  for (let i = 0; i < split.n; i++) {
    for (let t = 0; t < L; t++) {
      const id = split.text[i * 3 * L + t]!;
      const mask = split.text[i * 3 * L + L + t]!;
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new DataError({ code: 'SMC6016', message: `token id ${id} at row ${i}, position ${t} is not a whole number in [0, ${vocab})`, location: where, hint: 'the text_bert ids must come from the vocabulary the spec’s BERT uses (data { text_vocab })' });
      }
      if (mask !== 0 && mask !== 1) {
        throw new DataError({ code: 'SMC6016', message: `attention mask ${mask} at row ${i}, position ${t} is not 0 or 1`, location: where, hint: 'text_bert rows are [input_ids, attention_mask, token_type_ids]' });
      }
    }
  }
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
