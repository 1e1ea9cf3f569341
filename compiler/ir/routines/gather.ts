// Routines `gather` (embedding lookup) and `gather_backward` (its deterministic table gradient).
//
//   gather(table[V, D], ids[...]) → [..., D]   out[i, :] = table[ids[i], :]; ids are f32 values holding integers
//     (MMSA stores token ids as floats). The interpreter rejects an id that is not an integer in [0, V), naming it;
//     the GPU truncates it and clamps it into [0, V) (no error channel on the device). No gradient to ids.
//   gather_backward(ids[...], dOut[..., D]; vocab V) → [V, D]   row v = Σ over i in order of dOut[i, :] where
//     ids[i] = v: one invocation (or workgroup) per table element sums over all ids in a fixed order — no atomics,
//     so the result is bit-for-bit reproducible, repeated ids included (torch's embedding backward / index_add).
import { ShapeError, fmtShape, numel, type Shape } from '../graph.js';
import { acc, bin, c, coord, load, sel, un } from '../../kernels/ir.js';
import { registerRoutine, type RoutineLowering, type RoutineParams, type Tensor } from './registry.js';

function tableDims(s: Shape | undefined): [number, number] {
  if (!s || s.length !== 2) throw new ShapeError(`gather: the table must be [V, D], got ${s ? fmtShape(s) : 'nothing'}`, s ? [s] : []);
  return [s[0]!, s[1]!];
}

const vocabOf = (p: RoutineParams): number => {
  const v = p.vocab;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ShapeError(`gather_backward: vocab must be a positive integer, got ${String(v)}`);
  return v;
};

/** The row of id i, or an error naming it. */
function row(ids: Tensor, i: number, V: number): number {
  const id = ids[i]!;
  if (!Number.isInteger(id)) throw new Error(`gather: id ${id} (element ${i} of ids) is not an integer`);
  if (id < 0 || id >= V) throw new Error(`gather: id ${id} (element ${i} of ids) is out of range for a table of ${V} rows`);
  return id;
}

const inputTensor = (cx: RoutineLowering, k: number): string => cx.views[cx.node.inputs[k]!]!.tensor;
const shapeOf = (cx: RoutineLowering, k: number): number[] => cx.graph.nodes[cx.node.inputs[k]!]!.shape;

registerRoutine({
  name: 'gather',
  batchRows: [1],
  shape: ([t, ids]) => {
    const [, D] = tableDims(t);
    if (!ids) throw new ShapeError('gather: needs a table and ids');
    return [...ids, D];
  },
  evaluate: ([table, ids], [st]) => {
    const [V, D] = tableDims(st);
    const out = new Float64Array(ids!.length * D);
    for (let i = 0; i < ids!.length; i++) {
      const r = row(ids!, i, V);
      for (let d = 0; d < D; d++) out[i * D + d] = table![r * D + d]!;
    }
    return out;
  },
  vjp: (g, node, dOut) => {
    const [table, ids] = node.inputs as [number, number];
    return [g.routine('gather_backward', [ids, dOut], { vocab: g.shape(table)[0]! }), undefined];
  },
  noGradient: [1],
  needs: 'contiguous',
  // out[i, d] = table[clamp(trunc(ids[i]), 0, V − 1) · D + d], row and column in integer arithmetic
  lower: (cx) => {
    const [V, D] = shapeOf(cx, 0) as [number, number];
    const N = numel(shapeOf(cx, 1));
    cx.emit({
      kind: 'expr', name: cx.label('gather'), shape: [N, D],
      inputs: [cx.decl(inputTensor(cx, 0)), cx.decl(inputTensor(cx, 1))],
      outputs: [{ name: cx.tensorName(cx.node.id), size: N * D, expr: { k: 'gather', input: 0, index: load(1, [1, 0]), rows: { count: V, stride: D, col: coord(1) } } }],
    }, [cx.node.id]);
  },
});

registerRoutine({
  name: 'gather_backward',
  shape: ([ids, d], p) => {
    const V = vocabOf(p);
    if (!ids || !d || d.length !== ids.length + 1 || ids.some((n, i) => d[i] !== n)) {
      throw new ShapeError(`gather_backward: dOut ${d ? fmtShape(d) : '?'} must be the ids' shape ${ids ? fmtShape(ids) : '?'} plus one axis`);
    }
    return [V, d[d.length - 1]!];
  },
  evaluate: ([ids, dOut], [, sd], p) => {
    const V = vocabOf(p);
    const D = sd![sd!.length - 1]!;
    const out = new Float64Array(V * D);
    for (let i = 0; i < ids!.length; i++) {
      const r = row(ids!, i, V);
      for (let d = 0; d < D; d++) out[r * D + d]! += dOut![i * D + d]!;
    }
    return out;
  },
  // linear in dOut: its gradient is a gather of the cotangent
  vjp: (g, node, d) => [undefined, g.routine('gather', [d, node.inputs[0]!])],
  noGradient: [0],
  needs: 'contiguous',
  // domain [V, D] reducing over the N ids: Σ_n (clamp(floor(ids[n]), 0, V − 1) = v ? dOut[n, d] : 0), in order
  lower: (cx) => {
    const [V, D] = cx.node.shape as [number, number];
    const N = numel(shapeOf(cx, 0));
    const id = bin('min', bin('max', un('floor', load(0, [0, 0, 1])), c(0)), c(V - 1));
    const prologue = sel(bin('eq', id, coord(0)), load(1, [0, 1, D]), c(0));
    cx.emit({
      kind: 'expr', name: cx.label('gather_backward'), shape: [V, D],
      inputs: [cx.decl(inputTensor(cx, 0)), cx.decl(inputTensor(cx, 1))],
      reduce: { size: N, stages: [{ op: 'sum', prologue }] },
      outputs: [{ name: cx.tensorName(cx.node.id), size: V * D, expr: acc(0) }],
    }, [cx.node.id]);
  },
});
