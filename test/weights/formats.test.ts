// The tiny BERT fixture reads the same in all three formats (bit for bit, against torch's own digests), views
// and dtypes convert exactly as torch's .float() does, and config.json / sha256 provenance come back.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bertParameterShapes, FileBytes, parseBertConfig, readHfBertFolder, readWeights, readWeightsFile, WeightsError } from '../../runtime/weights/index.js';
import { f32Sha, fixture } from './helpers.js';

const T = { timeout: 5_000 };
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  config: Record<string, unknown>;
  tensors: Record<string, { shape: number[]; sha256: string }>;
};

describe('the tiny BERT in three formats', () => {
  const folders = { safetensors: 'tiny-safetensors', 'torch-zip': 'tiny-zip', 'torch-legacy': 'tiny-legacy' } as const;
  const loaded = Object.fromEntries(Object.entries(folders).map(([fmt, dir]) => [fmt, readHfBertFolder(fixture(dir))]));

  it.each(Object.keys(folders))('%s: every tensor matches torch (names, order, shapes, float32 bits)', T, (fmt) => {
    const h = loaded[fmt]!;
    expect(h.format).toBe(fmt);
    expect([...h.tensors.keys()]).toEqual(Object.keys(expected.tensors));
    for (const [name, t] of h.tensors) {
      expect(t.shape, name).toEqual(expected.tensors[name]!.shape);
      expect(f32Sha(t), name).toBe(expected.tensors[name]!.sha256);
    }
    expect(new Set(h.dtypes.values())).toEqual(new Set(['float32']));
  });

  it('the three formats are bit-identical to each other', T, () => {
    const [a, b, c] = Object.values(loaded);
    for (const [name, t] of a!.tensors) {
      const bytes = (x: typeof t) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength);
      expect(bytes(b!.tensors.get(name)!).equals(bytes(t)), name).toBe(true);
      expect(bytes(c!.tensors.get(name)!).equals(bytes(t)), name).toBe(true);
    }
  });

  it('tied weights (decoder = word embeddings, one storage in the torch files) read as equal copies', T, () => {
    for (const h of Object.values(loaded)) {
      const we = h.tensors.get('bert.embeddings.word_embeddings.weight')!;
      const dec = h.tensors.get('cls.predictions.decoder.weight')!;
      expect(dec.data).toEqual(we.data);
      expect(dec.data).not.toBe(we.data);
    }
  });

  it('config.json is parsed, and the sha256 is that of the weights file', T, () => {
    for (const h of Object.values(loaded)) {
      expect(h.config).toMatchObject({ hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, vocab_size: 40, max_position_embeddings: 16, type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: 'gelu', defaulted: [] });
      expect(h.sha256).toBe(createHash('sha256').update(readFileSync(h.file)).digest('hex'));
    }
  });

  it('prefers model.safetensors, and reads pytorch_model.bin on request', T, () => {
    expect(readHfBertFolder(fixture('tiny-zip'), { prefer: 'safetensors' }).format).toBe('torch-zip');
    expect(readHfBertFolder(fixture('tiny-safetensors'), { prefer: 'pytorch' }).format).toBe('safetensors');
  });

  it('the parameter table a config implies matches the checkpoint (with the bert. prefix, gamma/beta renamed)', T, () => {
    const h = loaded.safetensors!;
    for (const p of bertParameterShapes(h.config)) {
      const ck = `bert.${p.name}`.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
      expect(h.tensors.get(ck)?.shape, p.name).toEqual(p.shape);
    }
  });
});

describe('storage views and dtypes', () => {
  const exp = JSON.parse(readFileSync(fixture('dtypes/expected.json'), 'utf8')) as Record<string, { shape: number[]; dtype: string; stride: number[]; offset: number; f32_bits: string[] }>;
  const bitsOf = (x: number) => {
    const dv = new DataView(new ArrayBuffer(4));
    dv.setFloat32(0, x, true);
    return dv.getUint32(0, true).toString(16).padStart(8, '0');
  };
  const isNanBits = (h: string) => (parseInt(h, 16) & 0x7f800000) === 0x7f800000 && (parseInt(h, 16) & 0x7fffff) !== 0;

  it.each(['dtypes.bin', 'legacy.bin', 'big-endian.bin', 'protocol4.bin', 'deflated.bin'])('%s: each tensor equals torch’s .float(), bit for bit', T, (file) => {
    const w = readWeightsFile(fixture('dtypes', file));
    expect([...w.tensors.keys()]).toEqual(Object.keys(exp));
    for (const [name, e] of Object.entries(exp)) {
      const t = w.tensors.get(name)!;
      expect(t.shape, name).toEqual(e.shape);
      expect(w.dtypes.get(name), name).toBe(e.dtype);
      const got = Array.from(t.data, bitsOf);
      // NaN payloads are not preserved by JavaScript numbers; compare NaN-ness there, bits elsewhere.
      expect(got.map((h, i) => (isNanBits(e.f32_bits[i]!) ? isNanBits(h) : h)), name).toEqual(e.f32_bits.map((h) => (isNanBits(h) ? true : h)));
    }
  });

  it('a zip whose end record defers to the zip64 one (as for checkpoints over 4 GiB) reads the same', T, () => {
    const bytes = readFileSync(fixture('dtypes', 'dtypes.bin'));
    const eocd = bytes.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
    const z64 = Buffer.from(bytes);
    z64.writeUInt16LE(0xffff, eocd + 8);
    z64.writeUInt16LE(0xffff, eocd + 10);
    z64.writeUInt32LE(0xffffffff, eocd + 12);
    z64.writeUInt32LE(0xffffffff, eocd + 16);
    const a = readWeightsFile(fixture('dtypes', 'dtypes.bin')).tensors;
    const b = readWeights(new FileBytes('zip64.bin', z64)).tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) expect(b.get(k)!.data, k).toEqual(t.data);
  });

  it('the fixture really has non-contiguous views and a storage offset', T, () => {
    expect(exp['f32.transposed']).toMatchObject({ shape: [4, 3], stride: [1, 4], offset: 0 });
    expect(exp['f32.slice']).toMatchObject({ shape: [2, 2], stride: [4, 1], offset: 5 });
    expect(exp['f32.expanded']).toMatchObject({ stride: [0, 1] });
    const t = readWeightsFile(fixture('dtypes', 'legacy.bin')).tensors;
    expect(Array.from(t.get('f32.transposed')!.data).map((x) => +x.toFixed(2))).toEqual([-1.5, -0.02, 1.46, -1.13, 0.35, 1.83, -0.76, 0.72, 2.2, -0.39, 1.09, 2.57]);
    expect(Array.from(t.get('f32.slice')!.data).map((x) => +x.toFixed(2))).toEqual([0.35, 0.72, 1.83, 2.2]);
  });

  it('fp16 converts exactly: subnormals, the largest half, -0, ±inf, NaN', T, () => {
    const h = readWeightsFile(fixture('dtypes', 'dtypes.bin')).tensors.get('f16')!.data;
    expect(h[3]).toBe(5.960464477539063e-8); // 2^-24, the smallest subnormal
    expect(h[4]).toBe(65504);
    expect(Object.is(h[5], -0)).toBe(true);
    expect(h[6]).toBe(Infinity);
    expect(Number.isNaN(h[7])).toBe(true);
    expect(h[8]).toBe(0.333251953125);
  });
});

describe('config.json', () => {
  const base = { hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, vocab_size: 40 };

  it('fills Hugging Face BertConfig defaults and says which', T, () => {
    const c = parseBertConfig(JSON.stringify(base));
    expect(c).toMatchObject({ max_position_embeddings: 512, type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: 'gelu' });
    expect(c.defaulted).toEqual(['max_position_embeddings', 'type_vocab_size', 'layer_norm_eps', 'hidden_act']);
  });

  it.each([
    ['{', 'not valid JSON', undefined],
    [JSON.stringify({ ...base, hidden_size: undefined }), '`hidden_size` is missing', 'hidden_size'],
    [JSON.stringify({ ...base, num_hidden_layers: '12' }), '`num_hidden_layers` is "12"', 'num_hidden_layers'],
    [JSON.stringify({ ...base, num_attention_heads: 3 }), 'not a multiple of num_attention_heads 3', 'num_attention_heads'],
    [JSON.stringify({ ...base, layer_norm_eps: -1 }), '`layer_norm_eps` is -1', 'layer_norm_eps'],
  ])('rejects %s', T, (text, msg, name) => {
    const e = (() => {
      try {
        parseBertConfig(text, 'x/config.json');
      } catch (err) {
        return err as WeightsError;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(WeightsError);
    expect(e.code).toBe('SMC5047');
    expect(e.message).toContain('x/config.json');
    expect(e.message).toContain(msg);
    expect(e.offending).toBe(name);
  });
});
