// The reference interpreter: op semantics in f64 and f32, broadcasting, movement, matmul, routines, errors.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/graph.js';
import { evaluate, run } from '../../runtime/interpreter/index.js';
import { erf } from '../../compiler/ops/index.js';
import { validateGraph, graphProblems } from '../../compiler/ir/validate.js';
import '../../compiler/ir/routines/index.js';

const f64 = (...v: number[]): Float64Array => Float64Array.from(v);

describe('interpreter', () => {
  it('elementwise with broadcasting, reductions, movement', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2, 3]);
    const y = g.input('y', [3]);
    g.output('add', g.add2(x, y));
    g.output('sum0', g.sum(x, [0]));
    g.output('max1', g.reduce('max', x, [1], true));
    g.output('perm', g.transpose(x));
    g.output('slice', g.slice(x, 1, 1, 3));
    g.output('pad', g.pad(y, 0, 1, 1));
    g.output('cat', g.concat([x, g.reshape(y, [1, 3])], 0));
    g.output('bc', g.broadcastTo(g.reshape(y, [3, 1]), [3, 2]));
    g.output('sel', g.select(g.binary('gt', x, g.scalar(2)), x, g.scalar(-1)));
    const graph = g.build();
    validateGraph(graph);
    const o = run(graph, new Map([['x', f64(1, 2, 3, 4, 5, 6)], ['y', f64(10, 20, 30)]]), { dtype: 'f64' });
    expect(Array.from(o.get('add')!)).toEqual([11, 22, 33, 14, 25, 36]);
    expect(Array.from(o.get('sum0')!)).toEqual([5, 7, 9]);
    expect(Array.from(o.get('max1')!)).toEqual([3, 6]);
    expect(Array.from(o.get('perm')!)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(o.get('slice')!)).toEqual([2, 3, 5, 6]);
    expect(Array.from(o.get('pad')!)).toEqual([0, 10, 20, 30, 0]);
    expect(Array.from(o.get('cat')!)).toEqual([1, 2, 3, 4, 5, 6, 10, 20, 30]);
    expect(Array.from(o.get('bc')!)).toEqual([10, 10, 20, 20, 30, 30]);
    expect(Array.from(o.get('sel')!)).toEqual([-1, -1, 3, 4, 5, 6]);
  });
  it('batched matmul with broadcast batch axes', () => {
    const g = new GraphBuilder();
    const a = g.input('a', [2, 1, 2, 2]);
    const b = g.input('b', [3, 2, 1]);
    g.output('c', g.matmul(a, b));
    const o = run(g.build(), new Map([['a', f64(1, 2, 3, 4, 0, 1, 1, 0)], ['b', f64(1, 1, 2, 0, 0, 3)]]), { dtype: 'f64' }).get('c')!;
    expect(Array.from(o)).toEqual([3, 7, 2, 6, 6, 12, 1, 1, 0, 2, 3, 0]);
  });
  it('f32 mode stores f32 values, f64 keeps double precision', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [1]);
    g.output('y', g.div(x, g.scalar(3)));
    const feeds = new Map([['x', f64(1)]]);
    expect(run(g.build(), feeds, { dtype: 'f32' }).get('y')![0]).toBe(Math.fround(1 / 3));
    expect(run(g.build(), feeds, { dtype: 'f64' }).get('y')![0]).toBe(1 / 3);
  });
  it('erf and gelu are accurate', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(-1.5)).toBeCloseTo(-0.9661051464753108, 15);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 15);
  });
  it('keep frees intermediates but keeps outputs; missing feeds are reported', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2]);
    const m = g.unary('exp', x);
    g.output('y', g.unary('neg', m));
    const vals = evaluate(g.build(), new Map([['x', f64(0, 1)]]), { dtype: 'f64', keep: [] });
    expect(vals[m]).toBeUndefined();
    expect(() => evaluate(g.build(), new Map(), { dtype: 'f64' })).toThrow(/no value fed for input `x`/);
  });
  it('validator reports broken graphs', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2, 3]);
    const y = g.unary('exp', x);
    const graph = g.build();
    expect(graphProblems(graph)).toEqual([]);
    graph.nodes[y] = { ...graph.nodes[y]!, shape: [3, 2] };
    expect(() => validateGraph(graph)).toThrow(/its rule gives \[2, 3\]/);
    graph.nodes[y] = { ...graph.nodes[y]!, shape: [2, 3], inputs: [5] };
    expect(graphProblems(graph).join()).toMatch(/not an earlier node/);
  });
});
