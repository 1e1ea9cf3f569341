// Snapshots of generated WGSL for representative kernels (software-adapter config), plus determinism of codegen.
import { describe, expect, it } from 'vitest';
import { acc, bin, c, load, un, type ExprKernel, type MatmulKernel } from '../../compiler/kernels/ir.js';
import { lowerKernel } from '../../compiler/kernels/lower.js';
import { SOFTWARE_DEFAULTS, selectKernelConfig } from '../../compiler/kernels/select.js';
import { optimizerLayout } from '../../compiler/kernels/wgsl-optimizer.js';
import { adamKernels, lstmKernels, lstmPair } from './fixtures.js';

const cfg = selectKernelConfig(SOFTWARE_DEFAULTS);
const gpuCfg = selectKernelConfig({ ...SOFTWARE_DEFAULTS, isSoftware: false });

const biasGelu: ExprKernel = {
  kind: 'expr',
  name: 'enc.ff1.bias_gelu',
  shape: [32, 64],
  inputs: [{ name: 'enc.ff1.mm', size: 2048 }, { name: 'enc.ff1.bias', size: 64 }],
  outputs: [{ name: 'enc.ff1.act', size: 2048, expr: un('gelu', bin('add', load(0, [64, 1]), load(1, [0, 1]))) }],
};

const xv = load(0, [10, 1]);
const softmax: ExprKernel = {
  kind: 'expr',
  name: 'attn.softmax',
  shape: [8],
  inputs: [{ name: 'attn.scores', size: 80 }],
  reduce: { size: 10, stages: [{ op: 'max', prologue: xv }, { op: 'sum', prologue: un('exp', bin('sub', xv, acc(0))) }] },
  outputs: [{ name: 'attn.p', size: 80, at: 'full', expr: bin('div', un('exp', bin('sub', xv, acc(0))), acc(1)) }],
};

const linear: MatmulKernel = {
  kind: 'matmul',
  name: 'enc.ff1.matmul+bias+relu',
  batch: [1, 1],
  M: 32, N: 64, K: 16,
  inputs: [{ name: 'x', size: 512 }, { name: 'W', size: 1024 }, { name: 'b', size: 64 }],
  a: { input: 0, offset: 0, batchStrides: [0, 0], rowStride: 16, colStride: 1 },
  b: { input: 1, offset: 0, batchStrides: [0, 0], rowStride: 1, colStride: 16 },
  output: { name: 'y', size: 2048 },
  bias: { input: 2, offset: 0, along: 'n' },
  activation: 'relu',
};

describe('generated WGSL', () => {
  it('elementwise bias + gelu (vec4)', () => {
    expect(lowerKernel(biasGelu, cfg)[0]!.wgsl).toMatchSnapshot();
  });
  it('softmax, one invocation per row and one workgroup per row', () => {
    expect(lowerKernel(softmax, cfg)[0]!.wgsl).toMatchSnapshot();
    expect(lowerKernel({ ...softmax, name: 'attn.softmax.wg' }, gpuCfg)[0]!.wgsl).toMatchSnapshot();
  });
  it('matmul x·Wᵀ + bias, relu (register tile 4x8, vec4 along k for both operands)', () => {
    expect(lowerKernel(linear, cfg)[0]!.wgsl).toMatchSnapshot();
  });
  it('LSTM forward (reverse direction) and Adam', () => {
    expect(lowerKernel(lstmPair(2, 3, 4, true, 'r')[0], cfg)[0]!.wgsl).toMatchSnapshot();
    const layout = optimizerLayout(64, [{ start: 0, length: 64, group: 0 }], [{ lr: 1e-3, weightDecay: 1e-4 }]);
    const lowered = adamKernels(layout, 2).flatMap((k) => lowerKernel(k, cfg));
    expect(lowered.map((l) => l.wgsl).join('\n')).toMatchSnapshot();
  });
  it('LSTM, both directions in one dispatch: forward, and backward for a software (packed W_hh) and a hardware adapter (W_hh rows)', () => {
    const [fwd, bwd] = lstmKernels(2, 3, 8, [false, true], 'bi');
    expect(lowerKernel(fwd, cfg)[0]!.wgsl).toMatchSnapshot();
    expect(lowerKernel(bwd, cfg)[0]!.wgsl).toMatchSnapshot();
    expect(lowerKernel(bwd, gpuCfg)[0]!.wgsl).toMatchSnapshot();
  });
  it('codegen is deterministic and constants print exactly', () => {
    const k: ExprKernel = { ...biasGelu, outputs: [{ name: 'o', size: 2048, expr: bin('add', load(0, [64, 1]), c(0.1)) }] };
    const a = lowerKernel(k, cfg)[0]!.wgsl;
    expect(lowerKernel(k, cfg)[0]!.wgsl).toBe(a);
    expect(a).toContain('vec4<f32>(0.10000000149011612)');
  });
});
