// Checkpoint names → the spec's BERT parameters through the declared table: HF BertModel layout under the spec's
// prefix, known-unused tensors for one warning line, and errors that name the missing, mis-shaped or unexpected
// tensor together with the checkpoint name it comes (or would come) from.

import { describe, expect, it } from 'vitest';
import {
  bertParameterShapes,
  HF_BERT_NAME_MAP,
  mapCheckpointNames,
  readHfBertFolder,
  WeightsError,
  type NameMap,
  type Tensor,
} from '../../runtime/weights/index.js';
import { fixture, error } from './helpers.js';

const T = { timeout: 5_000 };
const tiny = readHfBertFolder(fixture('tiny-legacy'));
const targets = (prefix = 'bert.') => bertParameterShapes(tiny.config).map((p) => ({ name: prefix + p.name, shape: p.shape }));


describe('the HF BERT name map', () => {
  it('maps the original checkpoint (bert. prefix, gamma/beta) onto BertModel names under the spec prefix', T, () => {
    const m = mapCheckpointNames(tiny.tensors, targets(), { prefix: 'bert.', file: tiny.file });
    expect([...m.tensors.keys()]).toEqual(targets().map((t) => t.name));
    expect(m.sources.get('bert.embeddings.LayerNorm.weight')).toBe('bert.embeddings.LayerNorm.gamma');
    expect(m.sources.get('bert.encoder.layer.1.output.LayerNorm.bias')).toBe('bert.encoder.layer.1.output.LayerNorm.beta');
    expect(m.sources.get('bert.encoder.layer.0.attention.self.query.weight')).toBe('bert.encoder.layer.0.attention.self.query.weight');
    expect(m.tensors.get('bert.embeddings.LayerNorm.weight')).toBe(tiny.tensors.get('bert.embeddings.LayerNorm.gamma'));
  });

  it('reports the pooler and pre-training heads as known-unused, in one warning line', T, () => {
    const m = mapCheckpointNames(tiny.tensors, targets(), { prefix: 'bert.' });
    expect(m.unused).toEqual([
      'bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'cls.predictions.bias', 'cls.predictions.transform.dense.weight',
      'cls.predictions.transform.dense.bias', 'cls.predictions.transform.LayerNorm.gamma', 'cls.predictions.transform.LayerNorm.beta',
      'cls.predictions.decoder.weight', 'cls.seq_relationship.weight', 'cls.seq_relationship.bias',
    ]);
    expect(m.unexpected).toEqual([]);
    expect(m.warning).toBe('ignoring 10 checkpoint tensor(s) the spec does not use: `bert.pooler.dense.weight`, `bert.pooler.dense.bias`, `cls.predictions.bias`, `cls.predictions.transform.dense.weight` and 6 more');
    expect(m.warning!.includes('\n')).toBe(false);
  });

  it('any spec prefix works, and targets outside it are not looked for', T, () => {
    const other = [...targets('text_encoder.'), { name: 'fusion.weight', shape: [3, 3] }];
    const m = mapCheckpointNames(tiny.tensors, other, { prefix: 'text_encoder.' });
    expect(m.tensors.size).toBe(targets().length);
    expect(m.tensors.has('text_encoder.embeddings.word_embeddings.weight')).toBe(true);
  });

  it('a BertModel checkpoint (no prefix, weight/bias LayerNorm names) maps too', T, () => {
    const hfModel = new Map<string, Tensor>();
    for (const [k, v] of tiny.tensors) hfModel.set(k.replace(/^bert\./, '').replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias'), v);
    const m = mapCheckpointNames(hfModel, targets(), { prefix: 'bert.' });
    expect(m.tensors.size).toBe(targets().length);
    expect(m.sources.get('bert.embeddings.LayerNorm.weight')).toBe('embeddings.LayerNorm.weight');
    expect(m.unused).toContain('pooler.dense.weight');
  });

  it('a missing tensor names the target and the checkpoint name it would map from, in the checkpoint’s style', T, () => {
    const ck = new Map(tiny.tensors);
    ck.delete('bert.encoder.layer.1.attention.output.LayerNorm.gamma');
    const e = error(() => mapCheckpointNames(ck, targets(), { prefix: 'bert.', file: 'w/pytorch_model.bin' }));
    expect(e.code).toBe('SMC5044');
    expect(e.offending).toBe('bert.encoder.layer.1.attention.output.LayerNorm.weight');
    expect(e.message).toContain('w/pytorch_model.bin');
    expect(e.message).toContain('`bert.encoder.layer.1.attention.output.LayerNorm.weight` (checkpoint name `bert.encoder.layer.1.attention.output.LayerNorm.gamma`)');
  });

  it('the renamed-tensor fixture: missing target, its checkpoint name, and the unexpected renamed one', T, () => {
    const h = readHfBertFolder(fixture('hostile/renamed'));
    const e = error(() => mapCheckpointNames(h.tensors, targets(), { prefix: 'bert.', file: h.file }));
    expect(e.code).toBe('SMC5044');
    expect(e.file).toBe(h.file);
    expect(e.offending).toBe('bert.encoder.layer.1.attention.self.query.weight');
    expect(e.message).toContain('(checkpoint name `bert.encoder.layer.1.attention.self.query.weight`)');
    expect(e.message).toContain('unexpected `bert.encoder.layer.1.attention.self.qry.weight`');
  });

  it('the mis-shaped fixture: names the target, the checkpoint tensor and both shapes', T, () => {
    const h = readHfBertFolder(fixture('hostile/misshaped'));
    const e = error(() => mapCheckpointNames(h.tensors, targets(), { prefix: 'bert.', file: h.file }));
    expect(e.code).toBe('SMC5045');
    expect(e.offending).toBe('bert.encoder.layer.0.intermediate.dense.weight');
    expect(e.message).toContain(h.file);
    expect(e.message).toContain('`bert.encoder.layer.0.intermediate.dense.weight` (checkpoint `bert.encoder.layer.0.intermediate.dense.weight`) is [8, 16], the spec wants [16, 8] (its transpose)');
  });

  it('an unexpected tensor is an error naming it, unless allowed (then it joins the warning)', T, () => {
    const ck = new Map(tiny.tensors);
    ck.set('classifier.weight', { shape: [1, 8], data: new Float32Array(8) });
    const e = error(() => mapCheckpointNames(ck, targets(), { prefix: 'bert.', file: 'f.bin' }));
    expect(e.code).toBe('SMC5046');
    expect(e.offending).toBe('classifier.weight');
    expect(e.message).toContain('`classifier.weight`');
    const m = mapCheckpointNames(ck, targets(), { prefix: 'bert.', allowUnexpected: true });
    expect(m.unexpected).toEqual(['classifier.weight']);
    expect(m.warning).toContain('ignoring 11 checkpoint tensor(s)');
  });

  it('two checkpoint names that map to one target are an error naming both', T, () => {
    const ck = new Map(tiny.tensors);
    ck.set('embeddings.LayerNorm.weight', ck.get('bert.embeddings.LayerNorm.gamma')!);
    const e = error(() => mapCheckpointNames(ck, targets(), { prefix: 'bert.' }));
    expect(e.code).toBe('SMC5046');
    expect(e.message).toContain('`bert.embeddings.LayerNorm.gamma` and `embeddings.LayerNorm.weight` both map to `bert.embeddings.LayerNorm.weight`');
  });

  it('another spec layout is a table change', T, () => {
    const table: NameMap = {
      rules: [
        ...HF_BERT_NAME_MAP.rules,
        { checkpoint: 'encoder.layer.{i}.attention.self.{m}.{p}', block: 'layers.{i}.attn.{m}.{p}' },
        { checkpoint: 'encoder.layer.{i}.{rest}', block: 'layers.{i}.{rest}' },
      ],
      knownUnused: HF_BERT_NAME_MAP.knownUnused,
    };
    const want = targets('').map((t) => ({
      name: 'enc.' + t.name.replace(/^encoder\.layer\.(\d+)\.attention\.self\./, 'layers.$1.attn.').replace(/^encoder\.layer\.(\d+)\./, 'layers.$1.'),
      shape: t.shape,
    }));
    const m = mapCheckpointNames(tiny.tensors, want, { prefix: 'enc.', nameMap: table });
    expect(m.sources.get('enc.layers.1.attn.value.bias')).toBe('bert.encoder.layer.1.attention.self.value.bias');
    expect(m.sources.get('enc.layers.0.output.LayerNorm.weight')).toBe('bert.encoder.layer.0.output.LayerNorm.gamma');
    const ck = new Map(tiny.tensors);
    ck.delete('bert.encoder.layer.1.attention.self.key.weight');
    const e = error(() => mapCheckpointNames(ck, want, { prefix: 'enc.', nameMap: table }));
    expect(e.message).toContain('`enc.layers.1.attn.key.weight` (checkpoint name `bert.encoder.layer.1.attention.self.key.weight`)');
  });
});
