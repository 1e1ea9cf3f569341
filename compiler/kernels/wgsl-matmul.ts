// WGSL for the matmul template: register tiles (TM×TN outputs per invocation), vec4 loads along whichever axis
// is contiguous, no workgroup memory; shapes and strides travel in a uniform so one pipeline serves many shapes.
import type { MatmulKernel, MatmulOperand } from './ir.js';
import type { KernelConfig, MatmulTile } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { HelperSet, commentText, header, storageDecl, uniformDecl } from './wgsl-common.js';
import { UNARY } from '../ops/index.js';

type AMode = 'k4' | 'm4' | 'scalar';
type BMode = 'n4' | 'k4' | 'scalar';

export interface MatmulVariant {
  tile: MatmulTile;
  aMode: AMode;
  bMode: BMode;
  /** N % 4 == 0: vec4 stores of C (and of the residual / accumulated C). */
  cVec: boolean;
  scale: boolean;
  bias: 'none' | 'n' | 'm';
  activation: NonNullable<MatmulKernel['activation']>;
  residual: boolean;
  accumulate: boolean;
  /** One invocation per output, scalar loads (the benchmark baseline). */
  naive: boolean;
}

const aligned4 = (op: MatmulOperand, others: number[]): boolean =>
  op.offset % 4 === 0 && op.batchStrides.every((s) => s % 4 === 0) && others.every((s) => s % 4 === 0);

export function chooseMatmulVariant(k: MatmulKernel, cfg: KernelConfig, naive = false): MatmulVariant {
  const tile = naive ? { tm: 1, tn: 1, wgx: 8, wgy: 8 } : k.N <= cfg.narrowN ? cfg.matmulNarrow : cfg.matmul;
  const aSize = k.inputs[k.a.input]!.size;
  const bSize = k.inputs[k.b.input]!.size;
  let aMode: AMode = 'scalar';
  let bMode: BMode = 'scalar';
  if (!naive && cfg.vectorize) {
    if (k.a.colStride === 1 && k.K % 4 === 0 && aSize % 4 === 0 && aligned4(k.a, [k.a.rowStride])) aMode = 'k4';
    else if (k.a.rowStride === 1 && k.M % 4 === 0 && tile.tm === 4 && aSize % 4 === 0 && aligned4(k.a, [k.a.colStride])) aMode = 'm4';
    if (k.b.colStride === 1 && k.N % 4 === 0 && bSize % 4 === 0 && aligned4(k.b, [k.b.rowStride])) bMode = 'n4';
    else if (k.b.rowStride === 1 && k.K % 4 === 0 && bSize % 4 === 0 && aligned4(k.b, [k.b.colStride])) bMode = 'k4';
  }
  return {
    tile,
    aMode,
    bMode,
    cVec: !naive && k.N % 4 === 0 && k.output.size % 4 === 0 && (k.outputOffset ?? 0) % 4 === 0,
    scale: k.scale !== undefined && k.scale !== 1,
    bias: k.bias ? k.bias.along : 'none',
    activation: k.activation ?? 'none',
    residual: !!k.residual,
    accumulate: !!k.accumulate,
    naive,
  };
}

/** Uniform words: M N K B1 aOff aB0 aB1 aRow aCol bOff bB0 bB1 bRow bCol biasOff resOff scale(f32) cOff Z pad. */
export function matmulUniform(k: MatmulKernel): Uint32Array {
  const w = new Int32Array(20);
  const vals = [
    k.M, k.N, k.K, k.batch[1],
    k.a.offset, k.a.batchStrides[0], k.a.batchStrides[1], k.a.rowStride, k.a.colStride,
    k.b.offset, k.b.batchStrides[0], k.b.batchStrides[1], k.b.rowStride, k.b.colStride,
    k.bias?.offset ?? 0, k.residual?.offset ?? 0,
  ];
  vals.forEach((v, i) => (w[i] = v));
  new Float32Array(w.buffer)[16] = k.scale ?? 1;
  w[17] = k.outputOffset ?? 0;
  w[18] = k.batch[0] * k.batch[1];
  return new Uint32Array(w.buffer);
}

const UNIFORM_STRUCT = `struct MatmulShape {
  M: i32, N: i32, K: i32, B1: i32,
  aOff: i32, aB0: i32, aB1: i32, aRow: i32, aCol: i32,
  bOff: i32, bB0: i32, bB1: i32, bRow: i32, bCol: i32,
  biasOff: i32, resOff: i32, scale: f32, cOff: i32, Z: i32, p2: i32,
}`;

const LANES = ['x', 'y', 'z', 'w'];

export function variantName(v: MatmulVariant): string {
  if (v.naive) return 'naive';
  const t = v.tile;
  return `t${t.tm}x${t.tn}_wg${t.wgx}x${t.wgy}_a${v.aMode}_b${v.bMode}${v.cVec ? '_c4' : ''}`;
}

export function generateMatmulKernel(k: MatmulKernel, cfg: KernelConfig, opts: { naive?: boolean } = {}): LoweredKernel {
  const v = chooseMatmulVariant(k, cfg, opts.naive);
  const { tm, tn, wgx, wgy } = v.tile;
  const helpers = new HelperSet();
  const nIn = k.inputs.length;
  const decls: string[] = [];
  const aVec = v.aMode !== 'scalar';
  const bVec = v.bMode !== 'scalar';
  k.inputs.forEach((b, i) => {
    const vec = (i === k.a.input && aVec) || (i === k.b.input && bVec);
    if (i === k.a.input && i === k.b.input && aVec !== bVec) throw new Error('matmul: A and B share a buffer with different views');
    decls.push(storageDecl(i, 'read', `in${i}`, vec ? 'vec4<f32>' : 'f32', commentText(b.name)));
  });
  decls.push(storageDecl(nIn, 'read_write', 'outC', v.cVec ? 'vec4<f32>' : 'f32', commentText(k.output.name)));
  decls.push(uniformDecl(nIn + 1, 'MatmulShape'));
  const rd = (i: number, idx: string): string => {
    const vec = (i === k.a.input && aVec) || (i === k.b.input && bVec);
    return vec ? `in${i}[(${idx}) / 4][(${idx}) % 4]` : `in${i}[${idx}]`;
  };
  const A = k.a.input;
  const B = k.b.input;
  const L: string[] = [];
  L.push('  let z = i32(gid.z);', ...(k.batch[0] * k.batch[1] > 1 ? ['  if (z >= u.Z) { return; }'] : []), '  let z0 = z / u.B1;', '  let z1 = z % u.B1;');
  L.push(`  let m0 = i32(gid.y) * ${tm};`, `  let n0 = i32(gid.x) * ${tn};`, '  if (m0 >= u.M || n0 >= u.N) { return; }');
  L.push('  let aZ = u.aOff + z0 * u.aB0 + z1 * u.aB1;', '  let bZ = u.bOff + z0 * u.bB0 + z1 * u.bB1;');
  // clamped rows / columns so loads stay in range; stores are guarded
  for (let i = 0; i < tm; i++) L.push(`  let aR${i} = aZ + min(m0 + ${i}, u.M - 1) * u.aRow;`);
  for (let j = 0; j < tn; j++) L.push(`  let bC${j} = bZ + min(n0 + ${j}, u.N - 1) * u.bCol;`);
  const Q = Math.max(1, tn / 4);
  const accT = tn >= 4 ? 'vec4<f32>' : 'f32';
  for (let i = 0; i < tm; i++) for (let q = 0; q < Q; q++) L.push(`  var acc${i}_${q} = ${accT}(0.0);`);
  if (tn >= 4) {
    L.push('  let K4 = u.K - u.K % 4;', '  for (var k0 = 0; k0 < K4; k0 += 4) {');
    // A values a(i, kk) as scalar expressions
    const aVal: string[][] = [];
    if (v.aMode === 'k4') {
      for (let i = 0; i < tm; i++) L.push(`    let a${i} = in${A}[(aR${i} + k0) / 4];`);
      for (let i = 0; i < tm; i++) aVal.push(LANES.map((l) => `a${i}.${l}`));
    } else if (v.aMode === 'm4') {
      for (let kk = 0; kk < 4; kk++) L.push(`    let at${kk} = in${A}[(aZ + min(m0, u.M - 4) + (k0 + ${kk}) * u.aCol) / 4];`);
      for (let i = 0; i < tm; i++) aVal.push([0, 1, 2, 3].map((kk) => `at${kk}.${LANES[i]}`));
    } else {
      for (let i = 0; i < tm; i++) {
        aVal.push([0, 1, 2, 3].map((kk) => `a${i}_${kk}`));
        for (let kk = 0; kk < 4; kk++) L.push(`    let a${i}_${kk} = ${rd(A, `aR${i} + (k0 + ${kk}) * u.aCol`)};`);
      }
    }
    // B values b(kk, q) as vec4 expressions over columns n0+4q .. n0+4q+3
    const bVal: string[][] = [];
    if (v.bMode === 'n4') {
      for (let kk = 0; kk < 4; kk++) {
        bVal.push([]);
        for (let q = 0; q < Q; q++) {
          L.push(`    let b${kk}_${q} = in${B}[(bZ + (k0 + ${kk}) * u.bRow + min(n0 + ${4 * q}, u.N - 4)) / 4];`);
          bVal[kk]!.push(`b${kk}_${q}`);
        }
      }
    } else if (v.bMode === 'k4') {
      for (let j = 0; j < tn; j++) L.push(`    let bt${j} = in${B}[(bC${j} + k0) / 4];`);
      for (let kk = 0; kk < 4; kk++) {
        bVal.push([]);
        for (let q = 0; q < Q; q++) {
          bVal[kk]!.push(`vec4<f32>(${[0, 1, 2, 3].map((l) => `bt${4 * q + l}.${LANES[kk]}`).join(', ')})`);
        }
      }
    } else {
      for (let kk = 0; kk < 4; kk++) {
        bVal.push([]);
        for (let q = 0; q < Q; q++) {
          const lanes = [0, 1, 2, 3].map((l) => rd(B, `bC${4 * q + l} + (k0 + ${kk}) * u.bRow`));
          L.push(`    let b${kk}_${q} = vec4<f32>(${lanes.join(', ')});`);
          bVal[kk]!.push(`b${kk}_${q}`);
        }
      }
    }
    for (let kk = 0; kk < 4; kk++) {
      for (let i = 0; i < tm; i++) {
        for (let q = 0; q < Q; q++) L.push(`    acc${i}_${q} = acc${i}_${q} + ${aVal[i]![kk]} * ${bVal[kk]![q]};`);
      }
    }
    L.push('  }');
    // K tail (K % 4 != 0), scalar
    L.push('  for (var kt = K4; kt < u.K; kt++) {');
    for (let i = 0; i < tm; i++) L.push(`    let a${i} = ${rd(A, `aR${i} + kt * u.aCol`)};`);
    for (let q = 0; q < Q; q++) {
      const lanes = [0, 1, 2, 3].map((l) => rd(B, `bC${4 * q + l} + kt * u.bRow`));
      L.push(`    let b${q} = vec4<f32>(${lanes.join(', ')});`);
    }
    for (let i = 0; i < tm; i++) for (let q = 0; q < Q; q++) L.push(`    acc${i}_${q} = acc${i}_${q} + a${i} * b${q};`);
    L.push('  }');
  } else {
    // naive: tm = tn = 1
    L.push('  for (var kk = 0; kk < u.K; kk++) {', `    acc0_0 = acc0_0 + ${rd(A, 'aR0 + kk * u.aCol')} * ${rd(B, 'bC0 + kk * u.bRow')};`, '  }');
  }
  // epilogue
  const W = tn >= 4 ? 4 : 1;
  const T = W === 4 ? 'vec4<f32>' : 'f32';
  const act = (x: string): string =>
    v.activation === 'none' ? x : UNARY[v.activation].wgsl(x, { splat: (l) => `${T}(${l})`, helper: (h) => helpers.use(h, W) });
  const lanesOf = (idx: (l: number) => string, i: number): string =>
    W === 1 ? rd(i, idx(0)) : `vec4<f32>(${[0, 1, 2, 3].map((l) => rd(i, idx(l))).join(', ')})`;
  L.push('  let cZ = z * u.M * u.N;');
  L.push('  let cB = cZ + u.cOff;');
  for (let i = 0; i < tm; i++) {
    L.push(`  if (m0 + ${i} < u.M) {`, `    let m = m0 + ${i};`);
    for (let q = 0; q < Q; q++) {
      const n = `n0 + ${4 * q}`;
      L.push(`    {`, `      let n = ${W === 4 ? n : 'n0'};`, `      var r = acc${i}_${q};`);
      if (v.scale) L.push('      r = r * u.scale;');
      if (v.bias === 'n') L.push(`      r = r + ${lanesOf((l) => `u.biasOff + min(n + ${l}, u.N - 1)`, k.bias!.input)};`);
      if (v.bias === 'm') L.push(`      r = r + ${T}(${rd(k.bias!.input, 'u.biasOff + m')});`);
      if (v.activation !== 'none') L.push(`      r = ${act('r')};`);
      L.push('      let ri = cZ + m * u.N + n;');
      L.push('      let ci = cB + m * u.N + n;');
      if (v.residual) L.push(`      r = r + ${lanesOf((l) => `u.resOff + min(ri + ${l}, cZ + m * u.N + u.N - 1)`, k.residual!.input)};`);
      if (v.cVec) {
        L.push(`      if (n < u.N) {`);
        if (v.accumulate) L.push('        r = r + outC[ci / 4];');
        L.push('        outC[ci / 4] = r;', '      }');
      } else if (W === 4) {
        for (let l = 0; l < 4; l++) {
          L.push(`      if (n + ${l} < u.N) { outC[ci + ${l}] = ${v.accumulate ? `outC[ci + ${l}] + ` : ''}r.${LANES[l]}; }`);
        }
      } else {
        L.push(`      if (n < u.N) { outC[ci] = ${v.accumulate ? 'outC[ci] + ' : ''}r; }`);
      }
      L.push('    }');
    }
    L.push('  }');
  }
  const hs = helpers.print();
  const wgsl = [
    `${header('matmul', k.name)} (${variantName(v)})`,
    UNIFORM_STRUCT,
    ...decls,
    ...(hs ? [hs] : []),
    `@compute @workgroup_size(${wgx}, ${wgy})`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>) {',
    ...L,
    '}',
    '',
  ].join('\n');
  const tilesN = Math.ceil(k.N / tn);
  const tilesM = Math.ceil(k.M / tm);
  return {
    name: k.name,
    wgsl,
    bindings: [
      ...k.inputs.map((b) => ({ tensor: b.name, access: 'read' as const })),
      { tensor: k.output.name, access: 'read_write' as const },
    ],
    uniform: matmulUniform(k),
    workgroups: [Math.ceil(tilesN / wgx), Math.ceil(tilesM / wgy), k.batch[0] * k.batch[1]],
    // sample routing lowers the batch extent (Z, word 18) or the rows (M, word 0) on the device
    bound: k.batch[0] * k.batch[1] > 1 ? { word: 18, items: k.batch[0] * k.batch[1] } : { word: 0, items: k.M },
  };
}
