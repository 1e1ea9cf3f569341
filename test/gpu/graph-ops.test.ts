// Graph lowering on the GPU against the interpreter for small graphs that exercise each op family: dropout
// (counter RNG, bit-exact), pad / concat / permute / non-view reshape, multi-axis reductions, matmul epilogues,
// a BiLSTM train step (lstm + lstm_gate_grads), and the three DMFD histogram routines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, numel, type Graph } from '../../compiler/ir/graph.js';
import * as L from '../../compiler/layers/index.js';
import { buildTrainStep, initTrainState } from '../../compiler/train-step.js';
import { gradients } from '../../compiler/autodiff.js';
import { initParams } from '../../runtime/abi/init.js';
import { run } from '../../runtime/interpreter/evaluate.js';
import { GpuGraph, GpuTrainStep } from '../../runtime/dev/graph-on-gpu.js';
import { selectKernelConfig, type KernelConfig } from '../../compiler/kernels/select.js';
import { expectClose, noGpuReason, openTestGpu, randn, type Gpu } from './harness.js';

function feedsFor(graph: Graph, seed = 1): Map<string, Float32Array> {
  const f = new Map<string, Float32Array>();
  let s = seed;
  for (const [name, id] of graph.inputs) f.set(name, name === 'seed' ? Float32Array.of(12345) : randn(numel(graph.nodes[id]!.shape), s++));
  for (const [k, v] of initParams(graph.params, 7)) f.set(k, v);
  return f;
}

describe.skipIf(!!noGpuReason)('graph lowering on the GPU', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await openTestGpu();
  });
  afterAll(() => gpu?.ctx.destroy());

  async function check(graph: Graph, rtol = 1e-4, atol = 1e-5, cfg?: KernelConfig): Promise<Map<string, Float32Array>> {
    const feeds = feedsFor(graph);
    const gg = await GpuGraph.create(gpu.ctx, graph, { cfg });
    try {
      for (const [k, v] of feeds) gg.feed(k, v);
      const names = [...graph.outputs.keys()];
      const got = await gg.run(names);
      const ref = run(graph, feeds, { dtype: 'f32' });
      for (const n of names) expectClose(got.get(n), Float32Array.from(ref.get(n)!), rtol, atol, n);
      return got;
    } finally {
      gg.destroy();
    }
  }

  it('dropout draws the same counter-based random numbers as the interpreter', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [3, 16]);
    g.output('y', L.dropout(g, x, 0.3, { training: true }));
    const got = await check(g.build(), 0, 0);
    const zeros = got.get('y')!.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(4);
  });

  it('pad, concat, permute, a reshape numpy would copy, and reductions over several axes', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2, 3, 4]);
    const y = g.input('y', [2, 5, 4]);
    const p = g.pad(x, 1, 1, 2); // [2, 6, 4]
    const cat = g.concat([p, y], 1); // [2, 11, 4]
    const t = g.permute(cat, [2, 0, 1]); // [4, 2, 11]
    const r = g.reshape(g.unary('tanh', t), [8, 11]);
    g.output('r', r);
    g.output('s', g.sum(g.mul(t, t), [0, 2]));
    g.output('m', g.reduce('max', cat, [0, 1], true));
    g.output('copy', g.reshape(g.permute(x, [2, 1, 0]), [12, 2]));
    await check(g.build());
  });

  it('matmul epilogues: scale, bias, activation, residual', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2, 5, 8]);
    const h = g.scoped('l1', () => g.unary('gelu', L.linear(g, x, { in: 8, out: 12, init: 'torch' })));
    const o = g.scoped('l2', () => L.linear(g, h, { in: 12, out: 8, init: 'torch' }));
    g.output('y', g.add2(g.matmul(h, g.transpose(g.param('w', [8, 12], { kind: 'uniform', bound: 0.3 }))), o));
    g.output('s', g.mul(g.matmul(x, g.transpose(x)), g.scalar(0.25)));
    await check(g.build());
  });

  it('the real-GPU kernel variants (workgroup reductions, 4×4 tiles) agree too: a transformer encoder layer', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2, 6, 8]);
    const y = g.scoped('enc', () => L.transformerEncoder(g, x, { dModel: 8, heads: 2, layers: 1, mixTime: true, dropout: 0 }));
    g.output('y', y);
    g.output('p', L.softmax(g, y, -1));
    const cfg = { ...selectKernelConfig({ ...gpu.ctx.adapter, isSoftware: false }), maxStorageBuffers: gpu.cfg.maxStorageBuffers };
    expect(cfg.reduction).toBe('workgroup');
    await check(g.build(), 1e-4, 1e-5, cfg);
  });

  it('DMFD histogram routines: entropy, count-vector MI, joint-histogram MI', async () => {
    const g = new GraphBuilder();
    const a = g.input('a', [4, 60]);
    const b = g.input('b', [4, 60]);
    g.output('h', L.histEntropy(g, a));
    g.output('mi', L.countMI(g, a, g.mul(b, g.scalar(2))));
    g.output('jmi', L.jointHistMI(g, a, b, 8));
    await check(g.build());
  });

  // Both directions of a layer run as two lanes of one dispatch: the output and every gradient against the
  // interpreter (which runs each direction on its own), with a loss that weights every time step and feature
  // differently, so a lane that ran the wrong way, read the other lane's weights or wrote the other's place fails.
  // Two layers: the second reads the first's packed [h_fwd | h_rev]. Each kernel variant: software, hardware, and
  // state in global memory.
  it('BiLSTM, both directions in one dispatch: output and every gradient match the interpreter, each kernel variant', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [3, 5, 6]);
    const y = g.scoped('rnn', () => L.lstm(g, x, { input: 6, hidden: 4, bidirectional: true, layers: 2 }));
    const w = g.input('w', g.shape(y));
    const loss = g.sum(g.mul(y, w), [0, 1, 2]);
    const wrt = [x, ...g.params.map((p) => p.node)];
    const grads = gradients(g, loss, wrt);
    g.output('y', y);
    g.output('loss', loss);
    for (const id of wrt) g.output(`d.${id === x ? 'x' : g.params.find((p) => p.node === id)!.name}`, grads.get(id)!);
    const graph = g.build();
    expect(graph.nodes.filter((n) => n.attrs.op === 'routine' && n.attrs.name === 'lstm' && n.attrs.params.bidirectional === true)).toHaveLength(2);
    expect(graph.outputs.size).toBe(2 + 1 + 16);
    const hardware = { ...selectKernelConfig({ ...gpu.ctx.adapter, isSoftware: false }), maxStorageBuffers: gpu.cfg.maxStorageBuffers };
    for (const cfg of [gpu.cfg, hardware, { ...gpu.cfg, maxWorkgroupStorage: 16 }]) await check(graph, 1e-4, 1e-5, cfg);
  });

  it('a BiLSTM train step (lstm and lstm_gate_grads routines) matches the interpreter for three steps', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2, 5, 6]);
    const y = g.scoped('rnn', () => L.lstm(g, x, { input: 6, hidden: 4, bidirectional: true, layers: 2 }));
    g.output('loss', g.mean(g.unary('square', y), [0, 1, 2]));
    const step = buildTrainStep(g.build(), { loss: 'loss', lr: 1e-2, maxGradNorm: 0.5 });
    const feeds = feedsFor(step.graph);
    const params = new Map(step.graph.params.map((p) => [p.name, feeds.get(p.name)!]));
    let state: Map<string, Float32Array> = new Map([...feeds, ...initTrainState(step, params)]);
    const gs = await GpuTrainStep.create(gpu.ctx, step);
    try {
      gs.feed(state);
      for (let s = 0; s < 3; s++) {
        const ref = run(step.graph, state, { dtype: 'f32' });
        const got = await gs.run();
        // the interpreter computes the gates in f64 (rounding h and c to f32 per step), the GPU in f32
        expect(Math.abs(got.loss / ref.get('loss')![0]! - 1), `step ${s} loss`).toBeLessThan(1e-4);
        expect(got.gradNorm / ref.get('grad_norm')![0]!).toBeCloseTo(1, 4);
        state = new Map(state);
        for (const st of step.state) state.set(st.name, Float32Array.from(ref.get(`new:${st.name}`)!));
      }
      const gotState = await gs.readState();
      // atol 1e-5 of the tensor's largest entry: the interpreter's LSTM gates are f64, the GPU's f32; after three
      // steps at lr 1e-2 parameters of magnitude 0.5 differ by ~20 ulp (measured 1.3e-6)
      for (const st of step.state) {
        const ref = state.get(st.name)!;
        const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expectClose(gotState.get(st.name), ref, 1e-4, 1e-5 * scale, st.name);
      }
    } finally {
      gs.destroy();
    }
  });
});
