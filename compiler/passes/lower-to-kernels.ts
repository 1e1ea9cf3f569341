// Lowering: a graph (e.g. the whole train step) + fusion decisions → a kernel program: one kernel per
// materialised node (elementwise trees and reductions with inlined producers, matmuls on strided views) and the
// kernel sequences each routine's own lowering emits (its RoutineDef's `lower`).
import { numel, type Graph, type Node } from '../ir/graph.js';
import { getRoutine, type RoutineLowering } from '../ir/routines/index.js';
import { KernelError } from '../kernels/errors.js';
import { acc, bin, c, contiguousStrides, coord, kernelWrites, sel, un, type BufferDecl, type Expr, type Kernel, type MatmulKernel, type MatmulOperand } from '../kernels/ir.js';
import type { KernelProgram, ProgramTensor } from '../kernels/plan.js';
import { isRoutinePart, planFusion, tensorName, type FusionOptions, type FusionPlan, type MatmulEpilogue } from './fusion.js';
import { checkArenaHazards } from './lower-optimizer.js';
import { mergeKernels } from './merge-kernels.js';
import { broadcastMap, identityMap, loadMap, permuteMap, shiftMap, type CoordMap, type View } from './views.js';

export interface LoweredGraph {
  program: KernelProgram;
  /** Per kernel of the program, the graph nodes whose values are complete once it has run (validate mode). */
  kernelNodes: number[][];
  /** Per kernel, the graph nodes it computes part of (a routine's every kernel belongs to the routine's node). */
  kernelOwners: number[][];
  /** Tensor holding a materialised node's value (contiguous, node shape). */
  tensorOf: Map<number, string>;
  fusion: FusionPlan;
}

export interface LowerGraphOptions extends FusionOptions {
  /** Kernels merge only within a group (by their nodes' group; nodes absent are group −1): sample routing. */
  mergeGroups?: Map<number, number>;
}

/** Builds one kernel's expression: inputs deduplicated by tensor, names of the fused ops collected. */
class ExprBuilder {
  readonly inputs: BufferDecl[] = [];
  private index = new Map<string, number>();
  readonly ops: string[] = [];
  /** Reduction stages of the kernel being built (absorbed reduce nodes), over domain axes `rowRank` …. */
  readonly stages: { op: 'sum' | 'max'; prologue: Expr }[] = [];
  rowRank = 0;
  rdims: number[] = [];
  private reduceStage = new Map<number, number>();
  constructor(
    readonly graph: Graph,
    readonly plan: FusionPlan,
    readonly sizes: Map<string, number>,
    readonly domainRank: number,
  ) {}

  input(tensor: string): number {
    let i = this.index.get(tensor);
    if (i === undefined) {
      i = this.inputs.length;
      this.index.set(tensor, i);
      this.inputs.push({ name: tensor, size: this.sizes.get(tensor)! });
    }
    return i;
  }

  load(v: View, m: CoordMap, clamp: boolean): Expr {
    const map = loadMap(v, m, this.domainRank);
    return { k: 'load', input: this.input(v.tensor), map: clamp ? { ...map, clamp } : map };
  }

  private coordExpr(m: CoordMap, j: number): Expr {
    let e: Expr | undefined;
    m.rows[j]!.forEach((a, d) => {
      if (a === 0) return;
      const t = a === 1 ? coord(d) : bin('mul', coord(d), c(a));
      e = e ? bin('add', e, t) : t;
    });
    const off = m.off[j]!;
    if (!e) return c(off);
    return off ? bin('add', e, c(off)) : e;
  }

  private note(op: string): void {
    if (!this.ops.includes(op)) this.ops.push(op);
  }

  /** Value of node `id` at coordinates m; `root` builds the node's own expression even though it has a buffer. */
  build(id: number, m: CoordMap, clamp = false, root = false): Expr {
    const n = this.graph.nodes[id]!;
    const v = this.plan.views[id];
    if (v && !root) return this.load(v, m, clamp);
    const a = n.attrs;
    const sh = (k: number): number[] => this.graph.nodes[n.inputs[k]!]!.shape;
    const operand = (k: number, cl = clamp): Expr => this.build(n.inputs[k]!, broadcastMap(m, sh(k), n.shape), cl);
    switch (a.op) {
      case 'const':
        return c(a.value);
      case 'reduce': {
        if (!this.plan.absorbedReduces.has(id) && this.plan.mat.has(id)) break;
        const memo = this.reduceStage.get(id);
        if (memo !== undefined) return acc(memo);
        const src = this.graph.nodes[n.inputs[0]!]!;
        const dims = a.axes.map((ax) => src.shape[ax]!);
        if (this.stages.length && dims.join() !== this.rdims.join()) break;
        this.rdims = dims;
        const D = this.domainRank;
        const sm: CoordMap = { rows: [], off: [] };
        let kept = 0;
        src.shape.forEach((_, j) => {
          const p = a.axes.indexOf(j);
          if (p >= 0) {
            const row = new Array<number>(D).fill(0);
            row[this.rowRank + p] = 1;
            sm.rows.push(row);
            sm.off.push(0);
          } else {
            const k = a.keepdims ? j : kept;
            kept++;
            sm.rows.push([...m.rows[k]!]);
            sm.off.push(m.off[k]!);
          }
        });
        this.note(a.fn);
        const prologue = this.build(src.id, sm, clamp);
        this.stages.push({ op: a.fn, prologue });
        this.reduceStage.set(id, this.stages.length - 1);
        return acc(this.stages.length - 1);
      }
      case 'rand': {
        this.note('rand');
        const seed = this.build(n.inputs[0]!, { rows: [], off: [] }, false);
        const map = loadMap({ tensor: '', offset: 0, strides: contiguousStrides(n.shape) }, m, this.domainRank);
        return { k: 'rand', stream: a.stream, seed, map };
      }
      case 'unary':
        this.note(a.fn);
        return un(a.fn, operand(0));
      case 'binary':
        this.note(a.fn);
        return bin(a.fn, operand(0), operand(1));
      case 'select':
        this.note('select');
        return sel(operand(0), operand(1), operand(2));
      case 'broadcast':
      case 'stop_gradient':
        return operand(0);
      case 'permute':
        return this.build(n.inputs[0]!, permuteMap(m, a.perm), clamp);
      case 'slice':
        return this.build(n.inputs[0]!, shiftMap(m, a.starts), clamp);
      case 'reshape': {
        const src = this.graph.nodes[n.inputs[0]!]!;
        if (src.attrs.op === 'const') return c(src.attrs.value);
        const sv = this.plan.views[src.id];
        if (!sv) break;
        // a copy through a reshape numpy could not view: flat index → source coordinates → gather (exact in f32 below 2^22)
        if (numel(n.shape) >= 2 ** 22) break;
        this.note('reshape');
        let flat: Expr = c(0);
        const os = contiguousStrides(n.shape);
        n.shape.forEach((_, j) => (flat = bin('add', flat, bin('mul', this.coordExpr(m, j), c(os[j]!)))));
        let idx: Expr = c(sv.offset);
        const is = contiguousStrides(src.shape);
        src.shape.forEach((d, j) => {
          const q = un('floor', bin('div', flat, c(is[j]!)));
          const cj = j === 0 ? q : bin('sub', q, bin('mul', un('floor', bin('div', q, c(d))), c(d)));
          idx = bin('add', idx, bin('mul', cj, c(sv.strides[j]!)));
        });
        return { k: 'gather', input: this.input(sv.tensor), index: idx };
      }
      case 'pad': {
        this.note('pad');
        let cond: Expr | undefined;
        const s0 = sh(0);
        a.before.forEach((b, j) => {
          if (b === 0 && a.after[j] === 0) return;
          const x = this.coordExpr(m, j);
          const ok = bin('mul', bin('ge', x, c(b)), bin('lt', x, c(b + s0[j]!)));
          cond = cond ? bin('mul', cond, ok) : ok;
        });
        const inner = this.build(n.inputs[0]!, shiftMap(m, a.before.map((b) => -b)), true);
        return cond ? sel(cond, inner, c(0)) : inner;
      }
      case 'concat': {
        this.note('concat');
        const starts: number[] = [];
        let at = 0;
        for (let k = 0; k < n.inputs.length; k++) {
          starts.push(at);
          at += sh(k)[a.axis]!;
        }
        const x = this.coordExpr(m, a.axis);
        const part = (k: number): Expr => {
          const d = new Array(n.shape.length).fill(0);
          d[a.axis] = -starts[k]!;
          return this.build(n.inputs[k]!, shiftMap(m, d), true);
        };
        let e = part(n.inputs.length - 1);
        for (let k = n.inputs.length - 2; k >= 0; k--) e = sel(bin('lt', x, c(starts[k + 1]!)), part(k), e);
        return e;
      }
      default:
        break;
    }
    throw new KernelError('SMC4103', `cannot inline node ${id} (${a.op}) into a kernel`);
  }
}

const kernelLabel = (n: Node, what: string): string => `${n.scope || 'graph'}/${what}#${n.id}`;

export function lowerGraphToKernels(graph: Graph, opts: LowerGraphOptions): LoweredGraph {
  const plan = planFusion(graph, opts);
  const { mat, views } = plan;
  const nodes = graph.nodes;
  const keep = new Set([...(opts.keep ?? []), ...graph.outputs.values()]);
  const tensors: ProgramTensor[] = [];
  const sizes = new Map<string, number>();
  const tensorOf = new Map<number, string>();
  const addTensor = (t: ProgramTensor): string => {
    if (!sizes.has(t.name)) {
      tensors.push(t);
      sizes.set(t.name, t.size);
    }
    return t.name;
  };
  for (const n of nodes) {
    if (!mat.has(n.id)) continue;
    const op = n.attrs.op;
    const name = tensorName(n);
    const role = op === 'input' ? 'input' : op === 'param' ? 'param' : keep.has(n.id) ? 'output' : op === 'tensor' ? 'input' : 'temp';
    const init = n.attrs.op === 'tensor' ? Float32Array.from(n.attrs.data) : undefined;
    addTensor({ name, size: numel(n.shape), role, ...(init ? { init } : {}) });
    tensorOf.set(n.id, name);
  }
  // kept parts of a routine's packed result (fusion leaves them unmaterialised): tensors inside the routine's
  for (const id of keep) {
    const v = views[id];
    if (mat.has(id) || !v || !isRoutinePart(graph, id)) continue;
    const base = tensors.find((t) => t.name === v.tensor)!;
    if (base.role === 'temp') base.role = 'output';
    tensorOf.set(id, addTensor({ name: tensorName(nodes[id]!), size: numel(nodes[id]!.shape), role: 'output', alias: { of: v.tensor, offset: v.offset } }));
  }
  const kernels: Kernel[] = [];
  const kernelNodes: number[][] = [];
  const kernelOwners: number[][] = [];
  const emit = (k: Kernel, done: number[] = [], owners = done): void => {
    kernels.push(k);
    kernelNodes.push(done);
    kernelOwners.push(owners);
  };
  const decl = (t: string): BufferDecl => ({ name: t, size: sizes.get(t)! });
  const view = (id: number): View => {
    const v = views[id];
    if (!v) throw new KernelError('SMC4103', `node ${id} has no buffer view where one is needed`);
    return v;
  };

  for (const n of nodes) {
    if (!mat.has(n.id)) continue;
    const a = n.attrs;
    if (a.op === 'input' || a.op === 'param' || a.op === 'tensor') continue;
    const out = tensorName(n);
    const size = numel(n.shape);
    const ep = plan.epilogues.get(n.id);
    if (ep) {
      emit(lowerMatmul(graph, nodes[ep.matmul]!, views, decl, n, ep), [n.id]);
      continue;
    }
    if (a.op === 'matmul') {
      emit(lowerMatmul(graph, n, views, decl), [n.id]);
      continue;
    }
    if (a.op === 'routine') {
      const def = getRoutine(a.name);
      if (typeof def.lower !== 'function') throw new KernelError('SMC4103', `routine ${a.name} (node ${n.id}) has no GPU lowering: ${def.lower.none}`);
      const cx: RoutineLowering = {
        graph, node: n, views, tensors, decl, addTensor, emit: (k, done) => emit(k, done, [n.id]),
        tensorName: (id) => tensorName(nodes[id]!),
        label: (what) => kernelLabel(n, what),
        temp: (suffix, size) => addTensor({ name: `${out}.${suffix}`, size, role: 'temp' }),
      };
      def.lower(cx);
      continue;
    }
    if (a.op === 'reduce') {
      const src = nodes[n.inputs[0]!]!;
      const rank = n.shape.length;
      const rdims = a.axes.map((ax) => src.shape[ax]!);
      const D = rank + rdims.length;
      const m: CoordMap = { rows: [], off: [] };
      let kept = 0;
      src.shape.forEach((_, j) => {
        const row = new Array<number>(D).fill(0);
        const p = a.axes.indexOf(j);
        if (p >= 0) row[rank + p] = 1;
        else {
          const axis = a.keepdims ? j : kept;
          kept++;
          row[axis] = 1;
        }
        m.rows.push(row);
        m.off.push(0);
      });
      const b = new ExprBuilder(graph, plan, sizes, D);
      b.rowRank = rank;
      b.rdims = rdims;
      const prologue = b.build(src.id, m);
      const stages = [...b.stages, { op: a.fn, prologue }];
      emit({
        kind: 'expr',
        name: kernelLabel(n, [`${a.fn}`, ...b.ops].join('+')),
        shape: [...n.shape],
        inputs: b.inputs,
        reduce: { size: numel(rdims), dims: rdims, stages },
        outputs: [{ name: out, size, expr: acc(stages.length - 1) }],
      }, [n.id]);
      continue;
    }
    // full rows: reductions over n's own trailing axes evaluated in-line, n written element by element
    const fk = plan.fullReduce.get(n.id);
    if (fk !== undefined) {
      const rank = n.shape.length;
      const b = new ExprBuilder(graph, plan, sizes, rank);
      b.rowRank = rank - fk;
      b.rdims = n.shape.slice(rank - fk);
      const expr = b.build(n.id, identityMap(rank), false, true);
      emit({
        kind: 'expr',
        name: kernelLabel(n, b.ops.slice(0, 6).join('+') + (b.ops.length > 6 ? '+…' : '')),
        shape: n.shape.slice(0, rank - fk),
        inputs: b.inputs,
        reduce: { size: numel(b.rdims), dims: b.rdims, stages: b.stages },
        outputs: [{ name: out, size, at: 'full', expr }],
      }, [n.id]);
      continue;
    }
    // elementwise tree (or a copy of a view) rooted at n, with at most one absorbed reduction over extra axes
    const r = n.inputs.find((i) => plan.absorbedReduces.has(i));
    const q = r === undefined ? 0 : (nodes[r]!.attrs as { axes: number[] }).axes.length;
    const rank = n.shape.length;
    const b = new ExprBuilder(graph, plan, sizes, rank + q);
    b.rowRank = rank;
    const expr = b.build(n.id, identityMap(rank, rank + q), false, true);
    emit({
      kind: 'expr',
      name: kernelLabel(n, b.ops.length ? b.ops.slice(0, 5).join('+') + (b.ops.length > 5 ? '+…' : '') : 'copy'),
      shape: [...n.shape],
      inputs: b.inputs,
      ...(b.stages.length ? { reduce: { size: numel(b.rdims), dims: b.rdims, stages: b.stages } } : {}),
      outputs: [{ name: out, size, expr }],
    }, r === undefined ? [n.id] : [n.id]);
  }
  if (opts.mode === 'fused') {
    const pinned = new Set(tensors.filter((t) => t.role !== 'temp').map((t) => t.name));
    const indexOf = new Map(kernels.map((k, i) => [k, i]));
    const groupOf = opts.mergeGroups && ((k: Kernel): number => {
      const owners = kernelOwners[indexOf.get(k)!] ?? [];
      return owners.length ? opts.mergeGroups!.get(owners[0]!) ?? -1 : -1;
    });
    const merged = mergeKernels(kernels, opts.maxStorageBuffers, pinned, groupOf || undefined);
    // validate mode compares the nodes each kernel completes: a merged kernel completes its parts' nodes
    // whose outputs it still writes
    const doneByOutput = new Map<string, number[]>();
    const ownersByOutput = new Map<string, number[]>();
    kernels.forEach((k, i) => {
      for (const w of kernelWrites(k)) {
        doneByOutput.set(w.name, kernelNodes[i]!);
        ownersByOutput.set(w.name, kernelOwners[i]!);
      }
    });
    const original = new Set(kernels);
    const nodesOf = merged.map((k) => {
      if (original.has(k)) return kernelNodes[indexOf.get(k)!]!;
      return [...new Set(kernelWrites(k).flatMap((w) => doneByOutput.get(w.name) ?? []))];
    });
    const ownersOf = merged.map((k) => {
      if (original.has(k)) return kernelOwners[indexOf.get(k)!]!;
      return [...new Set(kernelWrites(k).flatMap((w) => ownersByOutput.get(w.name) ?? []))];
    });
    const live = new Set(merged.flatMap((k) => [...kernelWrites(k), ...k.inputs].map((b) => b.name)));
    const kept = tensors.filter((t) => t.role !== 'temp' || live.has(t.name));
    const keptNames = new Set(kept.map((t) => t.name));
    for (const [id, t] of [...tensorOf]) if (!keptNames.has(t)) tensorOf.delete(id);
    checkArenaHazards(merged, kept);
    return { program: { tensors: kept, kernels: merged }, kernelNodes: nodesOf, kernelOwners: ownersOf, tensorOf, fusion: plan };
  }
  checkArenaHazards(kernels, tensors);
  return { program: { tensors, kernels }, kernelNodes, kernelOwners, tensorOf, fusion: plan };
}

function lowerMatmul(graph: Graph, n: Node, views: (View | undefined)[], decl: (t: string) => BufferDecl, root: Node = n, ep?: MatmulEpilogue): Kernel {
  const out = n.shape;
  const nb = out.length - 2;
  const [M, N] = [out[nb]!, out[nb + 1]!];
  const ops = n.inputs.map((i) => ({ s: graph.nodes[i]!.shape, v: views[i]! }));
  const K = ops[0]!.s[ops[0]!.s.length - 1]!;
  const bstr = ops.map(({ s, v }) => {
    const lead = nb - (s.length - 2);
    return out.slice(0, nb).map((_, d) => (d < lead || s[d - lead] === 1 ? 0 : v.strides[d - lead]!));
  });
  let dims = out.slice(0, nb).map((d, i) => ({ d, st: bstr.map((s) => s[i]!) })).filter((x) => x.d !== 1);
  for (let merged = true; dims.length > 2 && merged; ) {
    merged = false;
    for (let i = 0; i + 1 < dims.length; i++) {
      const [x, y] = [dims[i]!, dims[i + 1]!];
      if (x.st.every((s, k) => s === y.d * y.st[k]!)) {
        dims = [...dims.slice(0, i), { d: x.d * y.d, st: y.st }, ...dims.slice(i + 2)];
        merged = true;
        break;
      }
    }
  }
  if (dims.length > 2) throw new KernelError('SMC4103', `matmul at node ${n.id}: more than two unmergeable batch axes`);
  while (dims.length < 2) dims.unshift({ d: 1, st: [0, 0] });
  const operand = (k: number): MatmulOperand => {
    const { s, v } = ops[k]!;
    const r = s.length;
    return { input: k, offset: v.offset, batchStrides: [dims[0]!.st[k]!, dims[1]!.st[k]!], rowStride: v.strides[r - 2]!, colStride: v.strides[r - 1]! };
  };
  const inputs = [decl(ops[0]!.v.tensor), decl(ops[1]!.v.tensor)];
  const extra: Partial<MatmulKernel> = {};
  const parts = ['matmul'];
  if (ep?.scale !== undefined) {
    extra.scale = ep.scale;
    parts.push('scale');
  }
  if (ep?.bias !== undefined) {
    const bv = views[ep.bias]!;
    if (bv.strides[bv.strides.length - 1] !== 1) throw new KernelError('SMC4103', `matmul bias at node ${ep.bias} is not contiguous`);
    inputs.push(decl(bv.tensor));
    extra.bias = { input: inputs.length - 1, offset: bv.offset, along: 'n' };
    parts.push('bias');
  }
  if (ep?.activation) {
    extra.activation = ep.activation;
    parts.push(ep.activation);
  }
  if (ep?.residual !== undefined) {
    const rv = views[ep.residual]!;
    inputs.push(decl(rv.tensor));
    extra.residual = { input: inputs.length - 1, offset: rv.offset };
    parts.push('residual');
  }
  if (ep?.transpose) parts.push('transpose');
  const k: MatmulKernel = {
    kind: 'matmul',
    name: kernelLabel(root, parts.join('+')),
    batch: [dims[0]!.d, dims[1]!.d],
    M, N, K,
    inputs,
    a: operand(0),
    b: operand(1),
    output: decl(tensorName(root)),
    ...extra,
  };
  if (!ep?.transpose) return k;
  // Cᵀ = Bᵀ·Aᵀ: the operands swap and read transposed, and a bias along n runs along the rows
  const t = (o: MatmulOperand): MatmulOperand => ({ ...o, rowStride: o.colStride, colStride: o.rowStride });
  return { ...k, M: N, N: M, a: t(k.b), b: t(k.a), ...(k.bias ? { bias: { ...k.bias, along: 'm' as const } } : {}) };
}
