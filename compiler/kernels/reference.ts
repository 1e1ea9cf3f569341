// Plain-JS reference semantics of every kernel IR kind (f64 arithmetic, f32 storage): the oracle for GPU tests.
import type { BinaryOp, Expr, ExprKernel, Kernel, MatmulKernel, UnaryOp } from './ir.js';
import { numel } from './ir.js';
import { BINARY, UNARY, sigmoid } from '../ops/index.js';
import { rngUniform } from '../../runtime/abi/rng.js';

export type TensorEnv = Map<string, Float32Array>;

const f = Math.fround;

/** The op table's f64 semantics (compiler/ops), as the graph interpreter evaluates them. */
export const unaryRef = (op: UnaryOp, a: number): number => UNARY[op].ref(a);
export const binaryRef = (op: BinaryOp, a: number, b: number): number => BINARY[op].ref(a, b);

function get(env: TensorEnv, name: string, size: number): Float32Array {
  let t = env.get(name);
  if (!t) {
    t = new Float32Array(size);
    env.set(name, t);
  }
  return t;
}

function evalExpr(e: Expr, ins: Float32Array[], coords: number[], accs: number[]): number {
  switch (e.k) {
    case 'const': return e.value;
    case 'coord': return coords[e.axis] ?? 0;
    case 'acc': return accs[e.stage]!;
    case 'load': {
      let i = e.map.offset;
      e.map.strides.forEach((s, d) => (i += s * (coords[d] ?? 0)));
      const a = ins[e.input]!;
      return a[e.map.clamp ? Math.min(Math.max(i, 0), a.length - 1) : i]!;
    }
    case 'gather': {
      const a = ins[e.input]!;
      const clampTo = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
      let i = Math.trunc(evalExpr(e.index, ins, coords, accs));
      // (a NaN row reads row 0 here; on the GPU its row is unspecified)
      if (e.rows) i = clampTo(i || 0, e.rows.count - 1) * e.rows.stride + Math.trunc(evalExpr(e.rows.col, ins, coords, accs));
      return a[clampTo(i, a.length - 1)]!;
    }
    case 'unary': return unaryRef(e.op, evalExpr(e.a, ins, coords, accs));
    case 'binary': return binaryRef(e.op, evalExpr(e.a, ins, coords, accs), evalExpr(e.b, ins, coords, accs));
    case 'select': return evalExpr(e.cond, ins, coords, accs) !== 0 ? evalExpr(e.a, ins, coords, accs) : evalExpr(e.b, ins, coords, accs);
    case 'rand': {
      let i = e.map.offset;
      e.map.strides.forEach((s, d) => (i += s * (coords[d] ?? 0)));
      return rngUniform(evalExpr(e.seed, ins, coords, accs) >>> 0, e.stream, i);
    }
  }
}

function unravel(i: number, shape: number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return c;
}

function evalExprKernel(k: ExprKernel, env: TensorEnv): void {
  const ins = k.inputs.map((b) => env.get(b.name) ?? new Float32Array(b.size));
  const outs = k.outputs.map((o) => get(env, o.name, o.size));
  const rows = numel(k.shape);
  const R = k.reduce?.size ?? 0;
  const rdims = k.reduce ? k.reduce.dims ?? [k.reduce.size] : [];
  const rco = (j: number): number[] => unravel(j, rdims);
  for (let r = 0; r < rows; r++) {
    const rc = unravel(r, k.shape);
    const accs: number[] = [];
    for (const st of k.reduce?.stages ?? []) {
      let a = st.op === 'sum' ? 0 : -Infinity;
      for (let j = 0; j < R; j++) {
        const v = evalExpr(st.prologue, ins, [...rc, ...rco(j)], accs);
        a = st.op === 'sum' ? a + v : Math.max(a, v);
      }
      accs.push(f(a));
    }
    k.outputs.forEach((o, oi) => {
      const off = o.offset ?? 0;
      if (o.at === 'full') for (let j = 0; j < R; j++) outs[oi]![off + r * R + j] = evalExpr(o.expr, ins, [...rc, ...rco(j)], accs);
      else outs[oi]![off + r] = evalExpr(o.expr, ins, [...rc, ...rdims.map(() => 0)], accs);
    });
  }
}

function evalMatmul(k: MatmulKernel, env: TensorEnv): void {
  const ins = k.inputs.map((b) => env.get(b.name)!);
  const C = get(env, k.output.name, k.output.size);
  const A = ins[k.a.input]!;
  const B = ins[k.b.input]!;
  const { M, N, K } = k;
  for (let z0 = 0; z0 < k.batch[0]; z0++) {
    for (let z1 = 0; z1 < k.batch[1]; z1++) {
      const aZ = k.a.offset + z0 * k.a.batchStrides[0] + z1 * k.a.batchStrides[1];
      const bZ = k.b.offset + z0 * k.b.batchStrides[0] + z1 * k.b.batchStrides[1];
      const cZ = (z0 * k.batch[1] + z1) * M * N + (k.outputOffset ?? 0);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let q = 0; q < K; q++) s += A[aZ + m * k.a.rowStride + q * k.a.colStride]! * B[bZ + q * k.b.rowStride + n * k.b.colStride]!;
          let r = s * (k.scale ?? 1);
          if (k.bias) r += ins[k.bias.input]![k.bias.offset + (k.bias.along === 'n' ? n : m)]!;
          if (k.activation && k.activation !== 'none') r = UNARY[k.activation].ref(r);
          const ci = cZ + m * N + n;
          if (k.residual) r += ins[k.residual.input]![k.residual.offset + ci - (k.outputOffset ?? 0)]!;
          C[ci] = k.accumulate ? C[ci]! + r : r;
        }
      }
    }
  }
}

/** numpy-style range and bin of a row, in f32 arithmetic like the WGSL. */
export function histRange(x: ArrayLike<number>, base: number, n: number): [number, number] {
  let lo = x[base]!;
  let hi = lo;
  for (let i = 1; i < n; i++) {
    lo = Math.min(lo, x[base + i]!);
    hi = Math.max(hi, x[base + i]!);
  }
  if (lo === hi) return [f(lo - 0.5), f(hi + 0.5)];
  return [lo, hi];
}

export function histBin(v: number, lo: number, hi: number, bins: number): number {
  const step = f(f(hi - lo) / bins);
  let i = Math.trunc(f(f(v - lo) * f(bins / f(hi - lo))));
  i = Math.min(Math.max(i, 0), bins - 1);
  if (v < f(lo + f(i * step))) i -= 1;
  const upper = i + 1 === bins ? hi : f(lo + f((i + 1) * step));
  if (i !== bins - 1 && v >= upper) i += 1;
  return Math.min(Math.max(i, 0), bins - 1);
}

export function countMi(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const key = (i: number): string => `${a[i]},${b[i]}`;
  const cells = new Map<string, number>();
  const ca = new Map<number, number>();
  const cb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    cells.set(key(i), (cells.get(key(i)) ?? 0) + 1);
    ca.set(a[i]!, (ca.get(a[i]!) ?? 0) + 1);
    cb.set(b[i]!, (cb.get(b[i]!) ?? 0) + 1);
  }
  if (ca.size === 1 || cb.size === 1) return 0;
  let s = 0;
  for (const [k, nij] of cells) {
    const [u, v] = k.split(',').map(Number) as [number, number];
    s += (nij / n) * Math.log((n * nij) / (ca.get(u)! * cb.get(v)!));
  }
  return Math.max(s, 0);
}

/** Element j of time step t of sample b in a strided LSTM sequence view. */
const at = (v: { offset: number; batchStride: number; timeStride: number }, b: number, t: number, j: number): number =>
  v.offset + b * v.batchStride + t * v.timeStride + j;

function evalRoutine(k: Exclude<Kernel, ExprKernel | MatmulKernel>, env: TensorEnv): void {
  switch (k.kind) {
    case 'lstm-forward': {
      const { batch: B, steps: T, hidden: H } = k;
      const xp = env.get(k.inputs[0].name)!;
      const W = env.get(k.inputs[1].name)!;
      const hc = get(env, k.outputs[0].name, k.outputs[0].size);
      const g = get(env, k.outputs[1].name, k.outputs[1].size);
      k.lanes.forEach((ln, lane) => {
        const w = (q: number, j: number, gate: number): number => W[k.whh.offset + lane * k.whh.laneStride + (q * H + j) * 4 + gate]!;
        for (let b = 0; b < B; b++) {
          for (let s = 0; s < T; s++) {
            const t = ln.reverse ? T - 1 - s : s;
            const tp = ln.reverse ? t + 1 : t - 1;
            for (let j = 0; j < H; j++) {
              const pre = [0, 1, 2, 3].map((q) => {
                let v = xp[at(ln.xproj, b, t, q * H + j)]!;
                if (s > 0) for (let r = 0; r < H; r++) v += w(r, j, q) * hc[at(ln.h, b, tp, r)]!;
                return v;
              });
              const gb = at(ln.gates, b, t, j);
              g[gb] = sigmoid(pre[0]!); g[gb + H] = sigmoid(pre[1]!); g[gb + 2 * H] = Math.tanh(pre[2]!); g[gb + 3 * H] = sigmoid(pre[3]!);
            }
            // c and h after all units of the step (the GPU meets at a barrier here)
            for (let j = 0; j < H; j++) {
              const gb = at(ln.gates, b, t, j);
              const cp = s > 0 ? hc[at(ln.c, b, tp, j)]! : 0;
              const cn = g[gb + H]! * cp + g[gb]! * g[gb + 2 * H]!;
              hc[at(ln.c, b, t, j)] = cn;
              hc[at(ln.h, b, t, j)] = g[gb + 3 * H]! * Math.tanh(cn);
            }
          }
        }
      });
      return;
    }
    case 'lstm-backward': {
      const { batch: B, steps: T, hidden: H } = k;
      const dout = env.get(k.inputs[0]!.name)!;
      const g = env.get(k.inputs[1]!.name)!;
      const hc = env.get(k.inputs[2]!.name)!;
      const dg = get(env, k.outputs[0].name, k.outputs[0].size);
      const dcs = get(env, k.outputs[1].name, k.outputs[1].size);
      k.lanes.forEach((ln, lane) => {
        const W = env.get(k.inputs[ln.whh]!.name)!;
        const tOf = (s: number): number => (ln.reverse ? T - 1 - s : s);
        for (let b = 0; b < B; b++) {
          const ds = (lane * B + b) * H;
          for (let s = T - 1; s >= 0; s--) {
            const t = tOf(s);
            for (let j = 0; j < H; j++) {
              let d = dout[at(ln.dh, b, t, j)]!;
              let dc = dout[at(ln.dc, b, t, j)]!;
              if (s < T - 1) {
                const nb = at(ln.dgates, b, tOf(s + 1), 0);
                for (let r = 0; r < 4 * H; r++) d += dg[nb + r]! * W[r * H + j]!;
                dc += dcs[ds + j]!;
              }
              const gb = at(ln.gates, b, t, j);
              const [ig, fg, gc, og] = [g[gb]!, g[gb + H]!, g[gb + 2 * H]!, g[gb + 3 * H]!];
              const cn = hc[at(ln.c, b, t, j)]!;
              const cp = s > 0 ? hc[at(ln.c, b, tOf(s - 1), j)]! : 0;
              const tc = Math.tanh(cn);
              dc += d * og * (1 - tc * tc);
              const db = at(ln.dgates, b, t, j);
              dg[db] = dc * gc * ig * (1 - ig);
              dg[db + H] = dc * cp * fg * (1 - fg);
              dg[db + 2 * H] = dc * ig * (1 - gc * gc);
              dg[db + 3 * H] = d * tc * og * (1 - og);
              dcs[ds + j] = dc * fg;
            }
          }
        }
      });
      return;
    }
    case 'hist-entropy': {
      const x = env.get(k.inputs[0].name)!;
      const ent = get(env, k.outputs[0].name, k.rows);
      const counts = get(env, k.outputs[1].name, k.rows * k.bins);
      for (let r = 0; r < k.rows; r++) {
        const [lo, hi] = histRange(x, r * k.length, k.length);
        const cnt = new Array<number>(k.bins).fill(0);
        for (let i = 0; i < k.length; i++) cnt[histBin(x[r * k.length + i]!, lo, hi, k.bins)]!++;
        let h = 0;
        cnt.forEach((n, q) => {
          counts[r * k.bins + q] = n;
          if (n > 0) h -= (n / k.length) * Math.log(n / k.length);
        });
        ent[r] = h;
      }
      return;
    }
    case 'count-mi': {
      const a = env.get(k.inputs[0].name)!;
      const b = env.get(k.inputs[1].name)!;
      const mi = get(env, k.outputs[0].name, k.rows);
      for (let r = 0; r < k.rows; r++) mi[r] = countMi(a.subarray(r * k.bins, (r + 1) * k.bins), b.subarray(r * k.bins, (r + 1) * k.bins));
      return;
    }
    case 'joint-mi': {
      const x = env.get(k.inputs[0].name)!;
      const y = env.get(k.inputs[1].name)!;
      const mi = get(env, k.outputs[0].name, k.rows);
      const L = k.length;
      for (let r = 0; r < k.rows; r++) {
        const [xl, xh] = histRange(x, r * L, L);
        const [yl, yh] = histRange(y, r * L, L);
        const joint = new Map<number, number>();
        const mx = new Array<number>(k.bins).fill(0);
        const my = new Array<number>(k.bins).fill(0);
        for (let i = 0; i < L; i++) {
          const bx = histBin(x[r * L + i]!, xl, xh, k.bins);
          const by = histBin(y[r * L + i]!, yl, yh, k.bins);
          joint.set(bx * k.bins + by, (joint.get(bx * k.bins + by) ?? 0) + 1);
          mx[bx]!++;
          my[by]!++;
        }
        let s = 0;
        for (const [cell, n] of joint) s += (n / L) * Math.log((L * n) / (mx[Math.floor(cell / k.bins)]! * my[cell % k.bins]!));
        mi[r] = Math.max(s, 0);
      }
      return;
    }
    case 'grad-norm': {
      const g = env.get(k.inputs[0].name)!;
      const partials = get(env, k.outputs[0].name, k.outputs[0].size);
      k.layout.blocks.forEach((b, i) => {
        let s = 0;
        for (let j = b.start; j < b.end; j++) s += g[j]! * g[j]!;
        partials[i] = s;
      });
      return;
    }
    case 'adam-step': {
      const partials = env.get(k.inputs[0].name)!;
      const arena = get(env, k.outputs[0].name, k.outputs[0].size);
      const coefs = get(env, k.outputs[1].name, k.outputs[1].size);
      const steps = 3 * k.layout.size;
      const sums = k.layout.params.map(() => 0);
      k.layout.blocks.forEach((b, i) => (sums[b.param]! += partials[i]!));
      sums.forEach((s, i) => {
        const used = !k.skipUnused || s > 0 ? 1 : 0;
        const t = (arena[steps + i] = arena[steps + i]! + used);
        const tb = Math.max(t, 1);
        coefs.set([used, 1 - Math.pow(k.beta1, tb), Math.sqrt(1 - Math.pow(k.beta2, tb))], 4 + 4 * i);
      });
      const norm = Math.sqrt(sums.reduce((a, b) => a + b, 0));
      arena[steps + sums.length] = norm;
      coefs[0] = k.maxNorm ? Math.min(1, k.maxNorm / (norm + 1e-6)) : 1;
      return;
    }
    case 'adam': {
      const g = env.get(k.inputs[0].name)!;
      const coefs = env.get(k.inputs[1].name)!;
      const a = env.get(k.outputs[0].name)!;
      const [M, V] = [k.layout.size, 2 * k.layout.size];
      for (const blk of k.layout.blocks) {
        const c = 4 + 4 * blk.param;
        if (coefs[c] === 0) continue;
        const { lr, weightDecay } = k.layout.groups[k.layout.params[blk.param]!.group]!;
        const [bc1, bc2sqrt] = [coefs[c + 1]!, coefs[c + 2]!];
        for (let i = blk.start; i < blk.end; i++) {
          const gi = f(g[i]! * coefs[0]!) + weightDecay * a[i]!;
          a[M + i] = a[M + i]! * k.beta1 + (1 - k.beta1) * gi;
          a[V + i] = a[V + i]! * k.beta2 + (1 - k.beta2) * gi * gi;
          const denom = Math.sqrt(a[V + i]!) / bc2sqrt + k.eps;
          a[i] = a[i]! - (lr / bc1) * (a[M + i]! / denom);
        }
      }
      return;
    }
  }
}

/** Evaluates one kernel: reads its inputs from env, writes (or updates, for read_write state) its outputs there. */
export function evalKernel(k: Kernel, env: TensorEnv): void {
  if (k.kind === 'expr') evalExprKernel(k, env);
  else if (k.kind === 'matmul') evalMatmul(k, env);
  else evalRoutine(k, env);
}
