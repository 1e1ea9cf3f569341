// The embedding gather (routines `gather`, `gather_backward`): shape rule, interpreter semantics and errors, the
// table gradient (repeated ids summed, none to ids) against finite differences and index_add, the lowered kernels
// on the kernel reference (ids clamped, as on the GPU; no atomics), and the spec surface (gather, Embedding).
import { describe, expect, it } from 'vitest';
import { GraphBuilder, ShapeError } from '../../compiler/ir/graph.js';
import { validateGraph } from '../../compiler/ir/validate.js';
import { gradients, passesGradient } from '../../compiler/autodiff.js';
import { lowerGraphToKernels } from '../../compiler/passes/lower-to-kernels.js';
import { evalKernel, type TensorEnv } from '../../compiler/kernels/reference.js';
import { lowerKernel } from '../../compiler/kernels/lower.js';
import { SOFTWARE_DEFAULTS, selectKernelConfig } from '../../compiler/kernels/select.js';
import { checkSpec } from '../../compiler/check/index.js';
import { buildTrainStep } from '../../compiler/train-step.js';
import * as L from '../../compiler/layers/index.js';
import { InterpreterError, run } from '../../runtime/interpreter/index.js';
import { fdCheck } from '../helpers/fd.js';
import '../../compiler/ir/routines/index.js';

const IDS = Float64Array.of(1, 3, 1, 0, 3, 3, 4, 1); // repeated ids, one row (2) never used
const TABLE = Float64Array.from({ length: 15 }, (_, i) => 0.5 * i - 3);

describe('gather: shape rule and interpreter', () => {
  it('table [V, D] at ids [...] → [..., D]; the table must have rank 2', () => {
    const g = new GraphBuilder();
    const t = g.input('t', [5, 3]);
    const y = L.gather(g, t, g.input('ids', [2, 4]));
    expect(g.shape(y)).toEqual([2, 4, 3]);
    expect(g.shape(L.gather(g, t, g.input('one', [])))).toEqual([3]);
    validateGraph(g.build());
    expect(() => L.gather(g, g.input('flat', [15]), g.input('i2', [2]))).toThrow(ShapeError);
    expect(() => L.gather(g, g.input('flat2', [15]), g.input('i3', [2]))).toThrow(/the table must be \[V, D\], got \[15\]/);
  });

  it('reads rows; an id that is out of range or not an integer is an error naming it', () => {
    const g = new GraphBuilder();
    g.output('y', L.gather(g, g.input('t', [5, 3]), g.input('ids', [2, 4])));
    const graph = g.build();
    const y = run(graph, new Map([['t', TABLE], ['ids', IDS]]), { dtype: 'f64' }).get('y')!;
    expect(Array.from(y)).toEqual(Array.from(IDS).flatMap((r) => [0, 1, 2].map((d) => TABLE[r * 3 + d]!)));
    const bad = (ids: number[]): (() => unknown) => () => run(graph, new Map([['t', TABLE], ['ids', Float64Array.from(ids)]]), { dtype: 'f32' });
    expect(bad([1, 3, 7, 0, 3, 3, 4, 1])).toThrow(InterpreterError);
    expect(bad([1, 3, 7, 0, 3, 3, 4, 1])).toThrow(/gather: id 7 \(element 2 of ids\) is out of range for a table of 5 rows/);
    expect(bad([1, 3, 1, -1, 3, 3, 4, 1])).toThrow(/id -1 \(element 3 of ids\) is out of range/);
    expect(bad([1, 3, 1, 0, 2.5, 3, 4, 1])).toThrow(/id 2\.5 \(element 4 of ids\) is not an integer/);
  });
});

describe('gather: gradients', () => {
  it('w.r.t. the table: central differences (f64), repeated ids summed', () => {
    const r = fdCheck([[5, 3]], (g, [t]) => L.gather(g, t!, g.tensor(IDS, [2, 4])));
    expect(r.maxErr, r.worst).toBeLessThan(1);
  });

  it('equals index_add of the output gradient over the ids; ids get none', () => {
    const g = new GraphBuilder();
    const t = g.input('t', [5, 3]);
    const ids = g.input('ids', [2, 4]);
    const y = L.gather(g, t, ids);
    const cot = Float64Array.from({ length: 24 }, (_, i) => Math.sin(i + 1));
    const loss = g.sum(g.mul(y, g.tensor(cot, [2, 4, 3])), [0, 1, 2]);
    expect(passesGradient(g.nodes[y]!, 1)).toBe(false);
    expect(gradients(g, loss, [ids]).size).toBe(0);
    const gr = gradients(g, loss, [t, ids]);
    expect(gr.has(ids)).toBe(false);
    g.output('dt', gr.get(t)!);
    const dt = run(g.build(), new Map([['t', TABLE], ['ids', IDS]]), { dtype: 'f64' }).get('dt')!;
    const want = new Float64Array(15);
    IDS.forEach((r, i) => { for (let d = 0; d < 3; d++) want[r * 3 + d]! += cot[i * 3 + d]!; });
    expect(Array.from(dt)).toEqual(Array.from(want));
    expect(Array.from(dt.slice(6, 9))).toEqual([0, 0, 0]); // row 2 is never looked up
  });

  it('gather_backward is differentiable too (w.r.t. the output gradient: a gather)', () => {
    const r = fdCheck([[2, 4, 3]], (g, [d]) => g.routine('gather_backward', [g.tensor(IDS, [2, 4]), d!], { vocab: 5 }));
    expect(r.maxErr, r.worst).toBeLessThan(1);
  });
});

describe('gather: lowering (kernel reference)', () => {
  const graphWithGrad = () => {
    const g = new GraphBuilder();
    const t = g.input('t', [5, 4]);
    const ids = g.input('ids', [2, 4]);
    const y = L.gather(g, t, ids);
    const cot = g.input('cot', [2, 4, 4]);
    const dt = gradients(g, g.sum(g.mul(y, cot), [0, 1, 2]), [t]).get(t)!;
    g.output('y', y);
    g.output('dt', dt);
    return g.build();
  };
  const lowerAndRun = (ids: Float32Array) => {
    const graph = graphWithGrad();
    const lg = lowerGraphToKernels(graph, { mode: 'fused', maxStorageBuffers: 8 });
    const t = Float32Array.from({ length: 20 }, (_, i) => i - 7.5);
    const cot = Float32Array.from({ length: 32 }, (_, i) => Math.cos(i));
    const env: TensorEnv = new Map([['in:t', t], ['in:ids', ids], ['in:cot', cot]]);
    for (const k of lg.program.kernels) evalKernel(k, env);
    const read = (name: string) => env.get(lg.tensorOf.get(graph.outputs.get(name)!)!)!;
    return { graph, lg, t, cot, y: read('y'), dt: read('dt') };
  };

  it('the kernels compute what the interpreter does', () => {
    const ids = Float32Array.from(IDS);
    const { graph, t, cot, y, dt } = lowerAndRun(ids);
    const ref = run(graph, new Map<string, Float32Array>([['t', t], ['ids', ids], ['cot', cot]]), { dtype: 'f32' });
    expect(Array.from(y)).toEqual(Array.from(ref.get('y')!));
    expect(Array.from(dt)).toEqual(Array.from(ref.get('dt')!));
  });

  it('ids outside [0, V) are truncated and clamped into range (the GPU has no error channel)', () => {
    const { y, dt, t, cot } = lowerAndRun(Float32Array.of(-3, 9, 4.7, 0.2, 1, 1, 1, 1));
    const rows = [0, 4, 4, 0, 1, 1, 1, 1];
    expect(Array.from(y)).toEqual(rows.flatMap((r) => Array.from(t.slice(r * 4, r * 4 + 4))));
    const want = new Float32Array(20);
    rows.forEach((r, i) => { for (let d = 0; d < 4; d++) want[r * 4 + d] = Math.fround(want[r * 4 + d]! + cot[i * 4 + d]!); });
    expect(Array.from(dt)).toEqual(Array.from(want));
  });

  it('the table gradient is one fixed-order reduction per table element: no atomics', () => {
    const { lg } = lowerAndRun(Float32Array.from(IDS));
    const bwd = lg.program.kernels.find((k) => k.name.includes('gather_backward'))!;
    expect(bwd.kind).toBe('expr');
    expect(bwd.kind === 'expr' && bwd.reduce?.size).toBe(8);
    expect(bwd.kind === 'expr' && bwd.shape).toEqual([5, 4]);
    for (const cfg of [selectKernelConfig(SOFTWARE_DEFAULTS), selectKernelConfig({ ...SOFTWARE_DEFAULTS, isSoftware: false })]) {
      for (const k of lg.program.kernels) for (const l of lowerKernel(k, cfg)) expect(l.wgsl).not.toMatch(/atomic/);
    }
  });
});

describe('gather and Embedding in specs', () => {
  const SPEC = `dim B
input text: [B, 6]
target label: [B]

model M {
  emb = Embedding(20, 4)
  frozen pos = Embedding(6, 4)
  param table: [20, 4] init normal(0.02)
  head = Linear(4, 1)
  forward(text) {
    let h = silu(emb(text)) + softplus(gather(table, text)) + pos(text)
    output pred = head(mean(h, 1))[:, 0]
  }
}

train {
  loss = l1(pred, label)
  lr = 1e-3
  batch_size = 2
}
`;
  it('Embedding(vocab, dim) owns `weight` [vocab, dim] ~ N(0, 0.02); a frozen one gets no gradient', () => {
    const r = checkSpec('emb.smcir', { text: SPEC, withLoss: true, training: true });
    expect(r.diagnostics).toEqual([]);
    const params = Object.fromEntries(r.graph!.params.map((p) => [p.name, p]));
    expect(params['emb.weight']).toMatchObject({ shape: [20, 4], init: { kind: 'normal', std: 0.02 }, frozen: false });
    expect(params['pos.weight']).toMatchObject({ shape: [6, 4], frozen: true });
    const step = buildTrainStep(r.graph!, { loss: r.elaborated!.loss!, lr: 1e-3 });
    expect([...step.grads.keys()].sort()).toEqual(['emb.weight', 'head.bias', 'head.weight', 'table']);
    // and the step runs on the interpreter with ids read from float data
    const feeds = new Map<string, Float32Array>();
    for (const [name, id] of step.graph.inputs) feeds.set(name, new Float32Array(step.graph.nodes[id]!.shape.reduce((a, b) => a * b, 1)));
    feeds.set('text', Float32Array.of(0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0));
    for (const p of step.graph.params) feeds.set(p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.01 * ((i % 7) - 3)));
    const out = run(step.graph, feeds, { dtype: 'f32' });
    expect(Number.isFinite(out.get('loss')![0]!)).toBe(true);
    expect(out.has('new:emb.weight') && !out.has('new:pos.weight')).toBe(true);
    // the frozen table keeps its value; only the rows looked up move in the trained one (Adam on a zero gradient
    // row leaves it: torch's dense Adam would too, m = v = 0)
    const moved = (name: string) => Array.from({ length: 20 }, (_, r) => out.get(`new:${name}`)!.slice(r * 4, r * 4 + 4).some((v, d) => v !== feeds.get(name)![r * 4 + d]));
    expect(moved('emb.weight')).toEqual(Array.from({ length: 20 }, (_, r) => r < 6));
  });
  it('gather is a spec function; a table of rank other than 2 is a shape error at its call', () => {
    const bad = SPEC.replace('param table: [20, 4]', 'param table: [80]');
    const r = checkSpec('emb.smcir', { text: bad, withLoss: true, training: true });
    expect(r.diagnostics.map((d) => d.message).join('\n')).toMatch(/the table must be \[V, D\], got \[80\]/);
  });
});
