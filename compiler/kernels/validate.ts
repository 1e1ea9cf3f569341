// Kernel IR validator: input indices, map ranks, in-bounds affine loads, output sizes, reduction stages and the
// adapter's storage-buffer limit. Runs after lowering in tests and debug mode.
import type { AffineMap, BufferDecl, Expr, ExprKernel, Kernel, LstmBackwardKernel, LstmBackwardLane, LstmForwardKernel, LstmForwardLane, MatmulKernel, MatmulOperand, SeqView } from './ir.js';
import { kernelReads, kernelWrites, numel } from './ir.js';
import { KernelError } from './errors.js';

/** Storage buffers a kernel binds once lowered (inputs + outputs + constant tables). */
export function storageBindingCount(k: Kernel): number {
  const base = kernelReads(k).length + kernelWrites(k).length;
  if (k.kind === 'adam') return base + 2;
  if (k.kind === 'grad-norm' || k.kind === 'adam-step') return base + 1;
  return base;
}

function mapRange(map: AffineMap, dims: number[]): [number, number] {
  let lo = map.offset;
  let hi = map.offset;
  map.strides.forEach((s, d) => {
    const span = s * ((dims[d] ?? 1) - 1);
    if (span < 0) lo += span;
    else hi += span;
  });
  return [lo, hi];
}

function checkExpr(k: ExprKernel, e: Expr, dims: number[], maxStage: number, where: string): void {
  const fail = (msg: string): never => {
    throw new KernelError('SMC4101', `${where}: ${msg}`, k.name);
  };
  switch (e.k) {
    case 'load': {
      const inp = k.inputs[e.input] ?? fail(`load from input ${e.input}, but the kernel has ${k.inputs.length}`);
      if (e.map.strides.length !== dims.length) fail(`load map of ${inp.name} has ${e.map.strides.length} strides for a ${dims.length}-axis domain`);
      const [lo, hi] = mapRange(e.map, dims);
      if (!e.map.clamp && (lo < 0 || hi >= inp.size)) fail(`load of ${inp.name} reaches [${lo}, ${hi}] outside [0, ${inp.size})`);
      break;
    }
    case 'gather':
      if (!k.inputs[e.input]) fail(`gather from input ${e.input}, but the kernel has ${k.inputs.length}`);
      checkExpr(k, e.index, dims, maxStage, where);
      if (e.rows) {
        if (!(e.rows.count >= 1 && e.rows.stride >= 0 && Number.isInteger(e.rows.count) && Number.isInteger(e.rows.stride))) fail(`gather rows: count ${e.rows.count}, stride ${e.rows.stride}`);
        checkExpr(k, e.rows.col, dims, maxStage, where);
      }
      break;
    case 'coord':
      if (e.axis < 0 || e.axis >= dims.length) fail(`coord(${e.axis}) outside a ${dims.length}-axis domain`);
      break;
    case 'acc':
      if (e.stage < 0 || e.stage >= maxStage) fail(`acc(${e.stage}) is not available here (${maxStage} stage(s) done)`);
      break;
    case 'unary':
      checkExpr(k, e.a, dims, maxStage, where);
      break;
    case 'binary':
      checkExpr(k, e.a, dims, maxStage, where);
      checkExpr(k, e.b, dims, maxStage, where);
      break;
    case 'select':
      checkExpr(k, e.cond, dims, maxStage, where);
      checkExpr(k, e.a, dims, maxStage, where);
      checkExpr(k, e.b, dims, maxStage, where);
      break;
    case 'rand':
      checkExpr(k, e.seed, dims, maxStage, where);
      break;
    case 'const':
      break;
  }
}

function validateExpr(k: ExprKernel): void {
  const rows = numel(k.shape);
  const red = k.reduce;
  const rdims = red ? red.dims ?? [red.size] : [];
  const dims = [...k.shape, ...rdims];
  if (red && numel(rdims) !== red.size) throw new KernelError('SMC4101', `reduction dims ${rdims.join('x')} do not multiply to ${red.size}`, k.name);
  if (k.outputs.length === 0) throw new KernelError('SMC4101', 'no outputs', k.name);
  if (red) {
    if (red.stages.length === 0 || red.size < 1) throw new KernelError('SMC4101', 'empty reduction', k.name);
    red.stages.forEach((s, i) => checkExpr(k, s.prologue, dims, i, `reduction stage ${i}`));
  }
  for (const o of k.outputs) {
    if (o.at === 'full' && !red) throw new KernelError('SMC4101', `output ${o.name} is 'full' but the kernel has no reduction`, k.name);
    const want = (o.at === 'full' ? rows * red!.size : rows) + (o.offset ?? 0);
    if (o.offset ? o.size < want : o.size !== want) throw new KernelError('SMC4101', `output ${o.name} has ${o.size} elements, the domain writes ${want}`, k.name);
    checkExpr(k, o.expr, dims, red ? red.stages.length : 0, `output ${o.name}`);
  }
}

function checkOperand(k: MatmulKernel, op: MatmulOperand, rows: number, cols: number, what: string): void {
  const inp = k.inputs[op.input];
  if (!inp) throw new KernelError('SMC4101', `${what} refers to input ${op.input}`, k.name);
  const map: AffineMap = { offset: op.offset, strides: [op.batchStrides[0], op.batchStrides[1], op.rowStride, op.colStride] };
  const [lo, hi] = mapRange(map, [k.batch[0], k.batch[1], rows, cols]);
  if (lo < 0 || hi >= inp.size) throw new KernelError('SMC4101', `${what} (${inp.name}) reaches [${lo}, ${hi}] outside [0, ${inp.size})`, k.name);
}

function validateMatmul(k: MatmulKernel): void {
  checkOperand(k, k.a, k.M, k.K, 'A');
  checkOperand(k, k.b, k.K, k.N, 'B');
  const cSize = k.batch[0] * k.batch[1] * k.M * k.N;
  if (k.output.size < cSize + (k.outputOffset ?? 0)) throw new KernelError('SMC4101', `C has ${k.output.size} elements, the product writes ${cSize} at offset ${k.outputOffset ?? 0}`, k.name);
  if (k.batch[0] * k.batch[1] > 65535) throw new KernelError('SMC4103', 'more than 65535 matmul batches', k.name);
  if (k.bias) {
    const n = k.bias.along === 'n' ? k.N : k.M;
    const inp = k.inputs[k.bias.input];
    if (!inp || k.bias.offset + n > inp.size) throw new KernelError('SMC4101', 'bias out of range', k.name);
  }
  if (k.residual) {
    const inp = k.inputs[k.residual.input];
    if (!inp || k.residual.offset + cSize > inp.size) throw new KernelError('SMC4101', 'residual out of range', k.name);
  }
}

/** LSTM kernels: at least one lane; every lane's views inside their buffers; backward lanes name a W_hh input. */
function validateLstm(k: LstmForwardKernel | LstmBackwardKernel): void {
  const { batch: B, steps: T, hidden: H } = k;
  if (H < 1 || T < 1 || B < 1 || k.lanes.length < 1) throw new KernelError('SMC4101', 'empty LSTM', k.name);
  const inside = (v: SeqView, buf: BufferDecl | undefined, width: number, what: string): void => {
    const [lo, hi] = mapRange({ offset: v.offset, strides: [v.batchStride, v.timeStride, 1] }, [B, T, width]);
    if (!buf || lo < 0 || hi >= buf.size) throw new KernelError('SMC4101', `${what} reaches [${lo}, ${hi}] outside ${buf ? `[0, ${buf.size})` : 'a missing buffer'}`, k.name);
  };
  k.lanes.forEach((l, i) => {
    if (k.kind === 'lstm-forward') {
      const f = l as LstmForwardLane;
      inside(f.xproj, k.inputs[0], 4 * H, `lane ${i} xproj`);
      inside(f.h, k.outputs[0], H, `lane ${i} h`);
      inside(f.c, k.outputs[0], H, `lane ${i} c`);
      inside(f.gates, k.outputs[1], 4 * H, `lane ${i} gates`);
      if (k.whh.offset + i * k.whh.laneStride + 4 * H * H > k.inputs[1].size) throw new KernelError('SMC4101', `lane ${i} W_hh outside ${k.inputs[1].name}`, k.name);
    } else {
      const b = l as LstmBackwardLane;
      inside(b.dh, k.inputs[0], H, `lane ${i} dh`);
      inside(b.dc, k.inputs[0], H, `lane ${i} dc`);
      inside(b.gates, k.inputs[1], 4 * H, `lane ${i} gates`);
      inside(b.c, k.inputs[2], H, `lane ${i} c`);
      inside(b.dgates, k.outputs[0], 4 * H, `lane ${i} dgates`);
      if (!(b.whh >= 3 && b.whh < k.inputs.length && k.inputs[b.whh]!.size >= 4 * H * H)) throw new KernelError('SMC4101', `lane ${i} W_hh is input ${b.whh}, not a [4H, H] input after the first three`, k.name);
    }
  });
  if (k.kind === 'lstm-backward' && k.whhPacked) {
    const p = k.whhPacked;
    const buf = p.input >= 3 ? k.inputs[p.input] : undefined;
    if (!buf || p.offset + (k.lanes.length - 1) * p.laneStride + 4 * H * H > buf.size) throw new KernelError('SMC4101', `packed W_hh (input ${p.input}) does not hold ${k.lanes.length} lane(s)`, k.name);
  }
  if (k.kind === 'lstm-backward' && k.outputs[1].size < k.lanes.length * B * H) throw new KernelError('SMC4101', `dcState holds ${k.outputs[1].size}, the lanes need ${k.lanes.length * B * H}`, k.name);
}

/** Throws KernelError when `k` is malformed or binds more than `maxStorageBuffers` storage buffers. */
export function validateKernel(k: Kernel, maxStorageBuffers: number): void {
  const n = storageBindingCount(k);
  if (n > maxStorageBuffers) {
    throw new KernelError('SMC4102', `binds ${n} storage buffers, the adapter allows ${maxStorageBuffers}`, k.name,
      'fusion must split this kernel; this is a bug in the fusion pass');
  }
  if (k.kind === 'expr') validateExpr(k);
  else if (k.kind === 'matmul') validateMatmul(k);
  else if (k.kind === 'lstm-forward' || k.kind === 'lstm-backward') validateLstm(k);
}
