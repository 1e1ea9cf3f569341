// The BERT encoder golden on the GPU: our kernels for `Bert` (forward and every parameter's gradient) against the
// hand-written Hugging Face BertModel, with the tolerances of the interpreter test (test/goldens/bert.test.ts).
// Without a WebGPU adapter the file prints why and skips (fails under SMCIRC_REQUIRE_GPU=1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFixture } from './fixtures.js';
import { FORWARD, GRAD, mismatch } from './compare.js';
import { BERT_CASE, buildBertCase, loadBertWeights } from './bert-case.js';
import { gpuSkipReason } from '../helpers/gpu-gate.js';
import { openGpu, type GpuContext } from '../../runtime/gpu/device.js';
import { GpuGraph } from '../../runtime/dev/graph-on-gpu.js';

const noGpu = await gpuSkipReason('GPU BERT golden');
const WORD = 'bert.embeddings.word_embeddings.weight';

describe.skipIf(!!noGpu)('BERT encoder on the GPU vs Hugging Face BertModel (PyTorch)', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await openGpu();
  });
  afterAll(() => ctx?.destroy());

  it('last hidden state and the gradient of every parameter', async () => {
    const f = readFixture(BERT_CASE);
    const c = buildBertCase();
    const gg = await GpuGraph.create(ctx, c.graph);
    try {
      for (const [k, v] of f.tensors) if (k.startsWith('in:')) gg.feed(k.slice(3), v.data);
      for (const [k, v] of loadBertWeights(c.forward).values) gg.feed(k, v);
      const got = await gg.run(['hidden', ...c.gradNames]);
      const problems: string[] = [];
      const check = (k: string, ref: string, tol = GRAD): void => {
        const m = mismatch(k, got.get(k)!, f.tensors.get(ref)!.data, tol);
        if (m) problems.push(m);
      };
      check('hidden', 'out:hidden', FORWARD);
      // the word embedding's [PAD] row: the known divergence of bert.test.ts (no padding_idx)
      for (const k of c.gradNames) check(k, k === `grad:${WORD}` ? `ref:grad_without_padding_idx:${WORD}` : k);
      expect(problems).toEqual([]);
    } finally {
      gg.destroy();
    }
  });
});
