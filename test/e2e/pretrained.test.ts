// `smcirc train --init bert=<folder>`: the whole model with BERT starts from a local Hugging Face checkpoint (the
// tiny fixture, in the original bert-base-uncased naming), on the interpreter and on the GPU; the run records the
// checkpoint's hash; broken or hostile checkpoints stop the run with a located, coded error before it starts.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../../runtime/train/safetensors.js';
import { readHfBertFolder } from '../../runtime/weights/index.js';
import { gpuSkipReason } from '../helpers/gpu-gate.js';
import { noStackTrace, ROOT, smcirc } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'smcirc-init-'));
const FIXTURE = join(ROOT, 'test/fixtures/bert/smcir-bert-tiny');
const HOSTILE = join(ROOT, 'test/fixtures/bert/hostile');
const noGpu = await gpuSkipReason('GPU --init test');
const epochLine = (dir: string) => /epoch 1: train loss (\d+\.\d+), valid L1 (\d+\.\d+)/.exec(readFileSync(join(dir, 'log.txt'), 'utf8'))!.slice(1).map(Number);

describe('--init bert=<Hugging Face folder>', () => {
  test('with lr 0 the trained BERT is the checkpoint’s, name for name (gamma/beta, output→out mapped); run.json records its hash', async () => {
    const out = join(tmp, 'lr0');
    const r = await smcirc(['train', 'specs/smcir-bert-tiny.smcir', '--backend', 'reference', '--init', `bert=${FIXTURE}`, '--set', 'train.lr=0', '--max-steps', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/init bert from .*pytorch_model\.bin \(torch-zip, sha256 [0-9a-f]{12}…, 37 tensors\)/);
    expect(r.stderr).toMatch(/note: ignoring 10 checkpoint tensor\(s\) the spec does not use: `bert\.pooler\.dense\.weight`/);
    const ck = readSafetensors(join(out, 'seed-1111/best.safetensors')).tensors;
    const src = readHfBertFolder(FIXTURE).tensors;
    const pairs: [string, string][] = [
      ['bert.embeddings.word_embeddings.weight', 'bert.embeddings.word_embeddings.weight'],
      ['bert.embeddings.LayerNorm.weight', 'bert.embeddings.LayerNorm.gamma'],
      ['bert.encoder.layer.1.attention.out.LayerNorm.bias', 'bert.encoder.layer.1.attention.output.LayerNorm.beta'],
      ['bert.encoder.layer.0.out.dense.weight', 'bert.encoder.layer.0.output.dense.weight'],
      ['bert.encoder.layer.1.attention.self.value.bias', 'bert.encoder.layer.1.attention.self.value.bias'],
    ];
    for (const [ours, theirs] of pairs) expect(Array.from(ck.get(ours)!.data), ours).toEqual(Array.from(src.get(theirs)!.data));
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.init[0]).toMatchObject({ member: 'bert', format: 'torch-zip', tensors: 37 });
    expect(run.init[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test.skipIf(!!noGpu)('trains on the GPU as on the interpreter', async () => {
    const gpu = join(tmp, 'gpu');
    const ref = join(tmp, 'ref');
    const args = ['train', 'specs/smcir-bert-tiny.smcir', '--init', `bert=${FIXTURE}`, '--max-steps', '4', '--quiet'];
    expect((await smcirc([...args, '--backend', 'gpu', '--out', gpu])).code).toBe(0);
    expect((await smcirc([...args, '--backend', 'reference', '--out', ref])).code).toBe(0);
    const [gl, gv] = epochLine(gpu);
    const [rl, rv] = epochLine(ref);
    expect(Math.abs(gl! - rl!)).toBeLessThan(2e-4);
    expect(Math.abs(gv! - rv!)).toBeLessThan(2e-4);
  });

  test.each([
    ['renamed', 'SMC5044', /has no tensor for `bert\.encoder\.layer\./],
    ['misshaped', 'SMC5045', /the spec wants/],
    ['os-system', 'SMC5042', /os\.system/],
    ['truncated-zip', 'SMC5041', /truncated|ends|corrupt/],
    ['truncated-legacy', 'SMC5041', /truncated|ends|corrupt/],
  ])('a %s checkpoint stops the run before it starts: %s', async (name, code, message) => {
    const out = join(tmp, `bad-${name}`);
    const r = await smcirc(['train', 'specs/smcir-bert-tiny.smcir', '--backend', 'reference', '--init', `bert=${join(HOSTILE, name)}`, '--max-steps', '1', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error ${code}: `, 'm'));
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(join(HOSTILE, name));
    expect(noStackTrace(r.stderr)).toBe(true);
    expect(existsSync(out)).toBe(false);
  });
});
