// The ablation specs do what their names say, on the reference backend at tiny widths and a batch that has
// zeroed modalities (so DMFD flags some samples).

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { initParams } from '../../runtime/abi/init.js';
import { ReferenceBackend } from '../../runtime/backends/reference.js';
import { makeSyntheticDataset } from '../../runtime/data/index.js';
import { batchTensors } from '../../runtime/train/data-source.js';

const specs = join(import.meta.dirname, '../../specs');
const TINY = ['T_L=6', 'd_L=8', 'T_V=7', 'd_V=3', 'T_A=5', 'd_A=2', 'hidden1=4', 'hidden2=4', 'num_layers=1', 'transformer_layers=1', 'heads=1', 'out_dim=4', 'head_hidden=4', 'eval.batch_size=16', 'eval.dmfd_stats="batch"'];

async function outputs(spec: string) {
  const model: CompiledModel = compileModel(join(specs, spec), { overrides: TINY });
  const backend = new ReferenceBackend(model);
  await backend.setState(initParams(model.eval.params, 1111));
  const ds = makeSyntheticDataset({ seed: 3, nTrain: 16, nValid: 16, nTest: 16, textLen: 6, textDim: 8, visionLen: 7, visionDim: 3, audioLen: 5, audioDim: 2 });
  const batch = batchTensors(ds.test, 16, 'label');
  // samples 0-3 lose their vision, 4-7 their audio: DMFD should flag (some of) them
  batch.get('vision')!.fill(0, 0, 4 * 7 * 3);
  batch.get('audio')!.fill(0, 4 * 5 * 2, 8 * 5 * 2);
  return { out: await backend.forward(batch, new Map()), batch };
}

const flagged = (s: Float32Array) => [...s].filter((v) => v >= 1).length;

describe('ablations', () => {
  test('the full model flags some samples and regenerates exactly those', async () => {
    const { out, batch } = await outputs('smcir.smcir');
    const sv = out.get('state_v')!;
    expect(flagged(sv)).toBeGreaterThan(0);
    const T = 7 * 3;
    const v = batch.get('vision')!;
    const vh = out.get('vision_hat')!;
    for (let i = 0; i < 16; i++) {
      const same = vh.subarray(i * T, (i + 1) * T).every((x, k) => x === v[i * T + k]);
      expect(same, `sample ${i} state ${sv[i]}`).toBe(sv[i]! < 1);
    }
  });

  test('Table 3, without CMCG: flagged modalities are left unchanged', async () => {
    const { out, batch } = await outputs('ablations/table3-no-cmcg.smcir');
    expect(flagged(out.get('state_v')!)).toBeGreaterThan(0);
    expect([...out.get('vision_hat')!]).toEqual([...batch.get('vision')!]);
    expect([...out.get('audio_hat')!]).toEqual([...batch.get('audio')!]);
  });

  test('Table 3, DMFD only: flagged modalities are zeroed, the others kept', async () => {
    const { out, batch } = await outputs('ablations/table3-dmfd-only.smcir');
    const sv = out.get('state_v')!;
    const T = 7 * 3;
    for (let i = 0; i < 16; i++) {
      const row = out.get('vision_hat')!.subarray(i * T, (i + 1) * T);
      if (sv[i]! >= 1) expect(row.every((x) => x === 0)).toBe(true);
      else expect([...row]).toEqual([...batch.get('vision')!.subarray(i * T, (i + 1) * T)]);
    }
  });

  test('Table 5, DMFD on vision only / audio only: the other modality is never flagged', async () => {
    const v = await outputs('ablations/table5-dmfd-v.smcir');
    expect(flagged(v.out.get('state_a')!)).toBe(0);
    expect(flagged(v.out.get('state_v')!)).toBeGreaterThan(0);
    const a = await outputs('ablations/table5-dmfd-a.smcir');
    expect(flagged(a.out.get('state_v')!)).toBe(0);
    expect(flagged(a.out.get('state_a')!)).toBeGreaterThan(0);
  });

  test('Table 4, indicator subsets change which samples are flagged', async () => {
    const flags = new Map<string, string>();
    for (const s of ['H', 'M', 'S', 'HMS']) {
      const { out } = await outputs(`ablations/table4-${s}.smcir`);
      flags.set(s, [...out.get('state_v')!].join(''));
    }
    expect(new Set(flags.values()).size).toBeGreaterThan(1);
  });
});
