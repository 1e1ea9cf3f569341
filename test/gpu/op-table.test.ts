// The op table on the GPU: every elementwise op's WGSL form against the kernel reference (scalar and vec4), every
// epilogue activation inside the matmul template, the WGSL erf against the table's erf over [-6, 6], softplus's
// exp tail, and the embedding gather (forward, deterministic table gradient, clamped ids, PyTorch goldens).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, type Graph } from '../../compiler/ir/graph.js';
import { BINARY, BINARY_OPS, UNARY, UNARY_OPS, erf, isEpilogueActivation } from '../../compiler/ops/index.js';
import { bin, load, un, type ExprKernel, type Kernel, type MatmulKernel } from '../../compiler/kernels/ir.js';
import { lowerGraphToKernels } from '../../compiler/passes/lower-to-kernels.js';
import { selectKernelConfig, type KernelConfig } from '../../compiler/kernels/select.js';
import { gradients } from '../../compiler/autodiff.js';
import * as L from '../../compiler/layers/index.js';
import { run } from '../../runtime/interpreter/index.js';
import { CASES } from '../goldens/cases.js';
import { buildCase } from '../goldens/harness.js';
import { fixtureFeeds, readFixture } from '../goldens/fixtures.js';
import { FORWARD, GRAD, mismatch } from '../goldens/compare.js';
import { SAMPLES } from '../helpers/op-samples.js';
import { expectClose, noGpuReason, openTestGpu, randn, runOnGpu, runReference, tensorsFor, type Gpu } from './harness.js';
import '../../compiler/ir/routines/index.js';

/** The samples of an op's domain, repeated to n values (n = 19: scalar kernels, n = 20: vec4). */
const samples = (positive: boolean, n: number): Float32Array => {
  const s = SAMPLES[positive ? 'positive' : 'all'];
  return Float32Array.from({ length: n }, (_, i) => s[i % s.length]!);
};

describe.skipIf(!!noGpuReason)('the op table on the GPU', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await openTestGpu();
  });
  afterAll(() => gpu?.ctx.destroy());

  async function check(kernels: Kernel[], inputs: Record<string, Float32Array>, outs: string[], rtol: number, atol: number): Promise<Map<string, Float32Array>> {
    const got = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, outs);
    const want = runReference(kernels, inputs);
    for (const o of outs) expectClose(got.get(o), want.get(o), rtol, atol, o);
    return got;
  }

  it('every unary op: WGSL = the record\'s semantics (scalar and vec4 kernels)', async () => {
    const kernels: ExprKernel[] = [];
    const inputs: Record<string, Float32Array> = {};
    for (const op of UNARY_OPS) {
      for (const n of [19, 20]) {
        const x = `${op}.x${n}`;
        inputs[x] = samples(UNARY[op].domain === 'positive', n);
        kernels.push({ kind: 'expr', name: `${op}${n}`, shape: [n], inputs: [{ name: x, size: n }], outputs: [{ name: `${op}.y${n}`, size: n, expr: un(op, load(0, [1])) }] });
      }
    }
    // GPU exp/log carry a few ulp (Vulkan: 3 + 2|x| ulp for exp, 2^-21 absolute for log near 1)
    await check(kernels, inputs, kernels.map((k) => k.outputs[0]!.name), 1e-5, 1e-6);
  });

  it('every binary op: WGSL = the record\'s semantics (scalar and vec4 kernels, broadcast operand)', async () => {
    const kernels: ExprKernel[] = [];
    const inputs: Record<string, Float32Array> = {};
    for (const op of BINARY_OPS) {
      const positive = BINARY[op].domain === 'positive';
      for (const n of [19, 20]) {
        const [a, b] = [`${op}.a${n}`, `${op}.b${n}`];
        inputs[a] = positive ? samples(true, n).map((v) => 0.2 + (v % 3)) : samples(false, n);
        inputs[b] = positive ? Float32Array.of(0.7, 1.9, 2.5, -0.4) : Float32Array.of(-1, 0, 0.27, 6.5);
        if (op === 'pow') inputs[b] = Float32Array.of(0.5, 2, 1.7, -1.3);
        kernels.push({
          kind: 'expr', name: `${op}${n}`, shape: [n], inputs: [{ name: a, size: n }, { name: b, size: 4 }],
          outputs: [{ name: `${op}.y${n}`, size: n, expr: bin(op, load(0, [1]), { k: 'load', input: 1, map: { offset: 0, strides: [0] } }) }],
        });
      }
    }
    await check(kernels, inputs, kernels.map((k) => k.outputs[0]!.name), 1e-5, 1e-6);
  });

  it('every epilogue activation inside the matmul template (vec4 epilogue of the tiled template, scalar of the naive one)', async () => {
    const inputs: Record<string, Float32Array> = { A: randn(4 * 5, 1, 2), B: randn(5 * 8, 3, 2) };
    const kernels: MatmulKernel[] = UNARY_OPS.filter(isEpilogueActivation).map((op) => ({
      kind: 'matmul', name: `mm.${op}`, batch: [1, 1], M: 4, N: 8, K: 5,
      inputs: [{ name: 'A', size: 20 }, { name: 'B', size: 40 }],
      a: { input: 0, offset: 0, batchStrides: [0, 0], rowStride: 5, colStride: 1 },
      b: { input: 1, offset: 0, batchStrides: [0, 0], rowStride: 8, colStride: 1 },
      output: { name: `mm.${op}`, size: 32 }, activation: op,
    }));
    expect(kernels.map((k) => k.activation)).toEqual(expect.arrayContaining(['relu', 'gelu', 'tanh', 'sigmoid', 'silu', 'softplus']));
    const outs = kernels.map((k) => k.output.name);
    const want = runReference(kernels, inputs);
    for (const naiveMatmul of [false, true]) {
      const got = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, outs, { lower: { naiveMatmul } });
      for (const o of outs) expectClose(got.get(o), want.get(o), 1e-5, 1e-6, `${o}${naiveMatmul ? ' (naive)' : ''}`);
    }
  });

  it('the WGSL erf is within 4e-7 of the table\'s erf over [-6, 6]; softplus keeps its exp tail', async () => {
    const n = 2400;
    const x = Float32Array.from({ length: n }, (_, i) => -6 + (12 * i) / (n - 1));
    const t = Float32Array.from({ length: 40 }, (_, i) => -25 + i * 1.1);
    const kernels: ExprKernel[] = [
      { kind: 'expr', name: 'erf', shape: [n], inputs: [{ name: 'x', size: n }], outputs: [{ name: 'erf', size: n, expr: un('erf', load(0, [1])) }] },
      { kind: 'expr', name: 'softplus', shape: [40], inputs: [{ name: 't', size: 40 }], outputs: [{ name: 'sp', size: 40, expr: un('softplus', load(0, [1])) }] },
    ];
    const got = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, { x, t }, ['erf', 'sp']);
    let worst = 0;
    x.forEach((v, i) => (worst = Math.max(worst, Math.abs(got.get('erf')![i]! - erf(v)))));
    expect(worst).toBeLessThan(4e-7);
    // relative, also where softplus(x) ≈ e^x ≪ 1 (a log(1 + e^x) would lose it)
    t.forEach((v, i) => expect(Math.abs(got.get('sp')![i]! / UNARY.softplus.ref(v) - 1), `softplus(${v})`).toBeLessThan(2e-5));
  });

  /** Lowers a graph, runs it on the GPU, returns its outputs by name. */
  async function runGraph(graph: Graph, feeds: Map<string, Float32Array>, cfg?: KernelConfig): Promise<Map<string, Float32Array>> {
    const lg = lowerGraphToKernels(graph, { mode: 'fused', maxStorageBuffers: gpu.cfg.maxStorageBuffers });
    const inputs: Record<string, Float32Array> = {};
    for (const [name, id] of graph.inputs) inputs[lg.tensorOf.get(id)!] = feeds.get(name)!;
    for (const p of graph.params) inputs[lg.tensorOf.get(p.node)!] = feeds.get(p.name)!;
    const names = [...graph.outputs].map(([name, id]) => [name, lg.tensorOf.get(id)!] as const);
    const got = await runOnGpu(gpu, lg.program, inputs, names.map(([, t]) => t), { cfg });
    return new Map(names.map(([name, t]) => [name, got.get(t)!]));
  }

  const gatherGraph = (V: number, D: number, shape: number[]): Graph => {
    const g = new GraphBuilder();
    const t = g.input('t', [V, D]);
    const y = L.gather(g, t, g.input('ids', shape));
    const dt = gradients(g, g.sum(g.mul(y, g.input('cot', [...shape, D])), [...shape, D].map((_, i) => i)), [t]).get(t)!;
    g.output('y', y);
    g.output('dt', dt);
    return g.build();
  };

  it('gather and its table gradient match the interpreter, reproducibly (vec4 and scalar, per-row and per-workgroup reductions)', async () => {
    // the real-GPU variant: one workgroup per table element, a fixed-order tree over the ids
    const hw = { ...selectKernelConfig({ ...gpu.ctx.adapter, isSoftware: false }), maxStorageBuffers: gpu.cfg.maxStorageBuffers };
    expect(hw.reduction).toBe('workgroup');
    for (const [V, D, shape, cfg] of [[37, 8, [2, 24], gpu.cfg], [11, 3, [5, 5], gpu.cfg], [37, 8, [2, 24], hw], [11, 3, [5, 5], hw]] as [number, number, number[], KernelConfig][]) {
      const graph = gatherGraph(V, D, shape);
      const N = shape[0]! * shape[1]!;
      const ids = Float32Array.from({ length: N }, (_, i) => (i * 7 + (i % 3)) % (V - 2)); // repeats, unused rows
      const feeds = new Map([['t', randn(V * D, 4)], ['ids', ids], ['cot', randn(N * D, 5)]]);
      const ref = run(graph, feeds, { dtype: 'f32' });
      const a = await runGraph(graph, feeds, cfg);
      const b = await runGraph(graph, feeds, cfg);
      expectClose(a.get('y'), Float32Array.from(ref.get('y')!), 0, 0, 'y');
      expectClose(a.get('dt'), Float32Array.from(ref.get('dt')!), 1e-5, 1e-6, 'dt');
      expect(Array.from(b.get('dt')!)).toEqual(Array.from(a.get('dt')!)); // same bits every run: no atomics
    }
  });

  it('gather clamps out-of-range ids into the table on the GPU (the interpreter refuses them)', async () => {
    const graph = gatherGraph(5, 4, [8]);
    const feeds = new Map([['t', randn(20, 6)], ['ids', Float32Array.of(-3, 9, 4.7, 0.2, 1, 1, 2, 3)], ['cot', randn(32, 7)]]);
    const got = await runGraph(graph, feeds);
    const lg = lowerGraphToKernels(graph, { mode: 'fused', maxStorageBuffers: gpu.cfg.maxStorageBuffers });
    const env = runReference(lg.program.kernels, { 'in:t': feeds.get('t')!, 'in:ids': feeds.get('ids')!, 'in:cot': feeds.get('cot')! });
    expectClose(got.get('y'), env.get(lg.tensorOf.get(graph.outputs.get('y')!)!), 0, 0, 'y');
    expectClose(got.get('dt'), env.get(lg.tensorOf.get(graph.outputs.get('dt')!)!), 1e-6, 1e-7, 'dt');
    expect(Array.from(got.get('y')!.slice(0, 4))).toEqual(Array.from(feeds.get('t')!.slice(0, 4))); // -3 → row 0
    expect(Array.from(got.get('y')!.slice(4, 8))).toEqual(Array.from(feeds.get('t')!.slice(16, 20))); // 9 → row 4
  });

  for (const name of ['activations', 'embedding']) {
    it(`PyTorch goldens on the GPU: ${name} forward and gradients`, async () => {
      const f = readFixture(name);
      const b = buildCase(CASES.find((c) => c.name === name)!);
      const feeds = new Map<string, Float32Array>([...fixtureFeeds(f)].map(([k, v]) => [k, Float32Array.from(v)]));
      const got = await runGraph(b.graph, feeds);
      const problems: string[] = [];
      for (const [k, v] of f.tensors) {
        if (!k.startsWith('out:') && !k.startsWith('grad:')) continue;
        const m = mismatch(k, got.get(k.startsWith('out:') ? k.slice(4) : k)!, v.data, k.startsWith('out:') ? FORWARD : GRAD);
        if (m) problems.push(m);
      }
      expect(problems).toEqual([]);
      expect(b.gradNames.length).toBeGreaterThan(0);
    });
  }
});
