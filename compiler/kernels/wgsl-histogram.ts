// WGSL for DMFD's histogram routines (one invocation per sample): numpy-style binning, histogram entropy,
// sklearn's mutual_info_score on two count vectors, and the joint-histogram mutual information.
import type { CountMiKernel, HistEntropyKernel, JointMiKernel } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { MAIN_SIGNATURE, type StorageBuffer, bindingSpecs, entry, grid1d, header, ioBuffers, linearId, lowered, storageDecls, uniformDecl } from './wgsl-common.js';

// Loop bounds come from a uniform: llvmpipe fully unrolls constant-trip loops (bins² = 900 iterations), which
// made these kernels take seconds to compile.
const HIST_SHAPE = 'struct HistShape { rows: i32, L: i32, bins: i32, p0: i32 }';

/** The buffers' declarations and the HistShape uniform after them. */
const decls = (bufs: StorageBuffer[]): string[] => [...storageDecls(bufs), HIST_SHAPE, uniformDecl(bufs.length, 'HistShape')];

/** One invocation per row: `row`, past the last row returns. */
const rowEntry = (wg: number, rows: number): string[] => entry(wg, MAIN_SIGNATURE, 'row', linearId(wg), rows);

type HistKernel = HistEntropyKernel | CountMiKernel | JointMiKernel;

/** The kernel record: bindings of `bufs`, the HistShape words, one invocation per row. */
function histKernel(k: HistKernel, lines: string[], bufs: StorageBuffer[], wg: number, cfg: KernelConfig): LoweredKernel {
  const uniform = new Uint32Array(Int32Array.from([k.rows, 'length' in k ? k.length : 0, k.bins, 0]).buffer);
  return lowered(k.name, lines, bindingSpecs(bufs), { uniform, workgroups: grid1d(k.rows, wg, cfg.maxWorkgroupsPerDim) });
}

/** min/max of a row and numpy's bin assignment (edges lo + k·step, edge corrections as in np.histogram). */
function binningFns(bins: number, buf: string, suffix: string): string {
  return `fn smc_range_${suffix}(base: i32, n: i32) -> vec2<f32> {
  var lo = ${buf}[base];
  var hi = lo;
  for (var i = 1; i < n; i++) {
    let v = ${buf}[base + i];
    lo = min(lo, v);
    hi = max(hi, v);
  }
  if (lo == hi) { lo = lo - 0.5; hi = hi + 0.5; }
  return vec2<f32>(lo, hi);
}`;
}

const BIN_FN = (bins: number): string => `fn smc_bin(v: f32, r: vec2<f32>) -> i32 {
  let step = (r.y - r.x) / ${bins}.0;
  var i = clamp(i32((v - r.x) * (${bins}.0 / (r.y - r.x))), 0, ${bins - 1});
  if (v < r.x + f32(i) * step) { i = i - 1; }
  let upper = select(r.x + f32(i + 1) * step, r.y, i + 1 == ${bins});
  if (i != ${bins - 1} && v >= upper) { i = i + 1; }
  return clamp(i, 0, ${bins - 1});
}`;

export function generateHistEntropy(k: HistEntropyKernel, cfg: KernelConfig): LoweredKernel {
  const { rows, length: L, bins } = k;
  const wg = cfg.elementwiseWorkgroup;
  const bufs = ioBuffers(k, ['x'], ['ent', 'counts']);
  const lines = [
    header('hist-entropy', k.name),
    ...decls(bufs),
    binningFns(bins, 'x', 'x'),
    BIN_FN(bins),
    ...rowEntry(wg, rows),
    `  let base = row * ${L};`,
    '  let r = smc_range_x(base, u.L);',
    `  var cnt: array<u32, ${bins}>;`,
    '  for (var i = 0; i < u.L; i++) {',
    '    let bi = smc_bin(x[base + i], r);',
    '    cnt[bi] = cnt[bi] + 1u;',
    '  }',
    '  var h = 0.0;',
    '  for (var q = 0; q < u.bins; q++) {',
    '    let n = cnt[q];',
    `    counts[row * ${bins} + q] = f32(n);`,
    `    if (n > 0u) { let p = f32(n) / ${L}.0; h = h - p * log(p); }`,
    '  }',
    '  ent[row] = h;',
    '}',
  ];
  return histKernel(k, lines, bufs, wg, cfg);
}

export function generateCountMi(k: CountMiKernel, cfg: KernelConfig): LoweredKernel {
  const { rows, bins: n } = k;
  const wg = cfg.elementwiseWorkgroup;
  const bufs = ioBuffers(k, ['ca', 'cb'], ['mi']);
  const lines = [
    header('count-mi', k.name),
    ...decls(bufs),
    ...rowEntry(wg, rows),
    `  var a: array<f32, ${n}>;`,
    `  var b: array<f32, ${n}>;`,
    `  for (var q = 0; q < u.bins; q++) { a[q] = ca[row * ${n} + q]; b[q] = cb[row * ${n} + q]; }`,
    '  var classesA = 0;',
    '  var classesB = 0;',
    '  var s = 0.0;',
    '  for (var q = 0; q < u.bins; q++) {',
    '    var newA = true;',
    '    var newB = true;',
    '    var newPair = true;',
    '    for (var p = 0; p < q; p++) {',
    '      if (a[p] == a[q]) { newA = false; }',
    '      if (b[p] == b[q]) { newB = false; }',
    '      if (a[p] == a[q] && b[p] == b[q]) { newPair = false; }',
    '    }',
    '    if (newA) { classesA = classesA + 1; }',
    '    if (newB) { classesB = classesB + 1; }',
    '    if (newPair) {',
    '      var nij = 0.0;',
    '      var ai = 0.0;',
    '      var bj = 0.0;',
    '      for (var p = 0; p < u.bins; p++) {',
    '        let ma = a[p] == a[q];',
    '        let mb = b[p] == b[q];',
    '        if (ma) { ai = ai + 1.0; }',
    '        if (mb) { bj = bj + 1.0; }',
    '        if (ma && mb) { nij = nij + 1.0; }',
    '      }',
    `      s = s + (nij / ${n}.0) * log(${n}.0 * nij / (ai * bj));`,
    '    }',
    '  }',
    '  mi[row] = select(max(s, 0.0), 0.0, classesA == 1 || classesB == 1);',
    '}',
  ];
  return histKernel(k, lines, bufs, wg, cfg);
}

export function generateJointMi(k: JointMiKernel, cfg: KernelConfig): LoweredKernel {
  const { rows, length: L, bins } = k;
  const wg = cfg.elementwiseWorkgroup;
  const B2 = bins * bins;
  // the joint histogram lives in a storage scratch row, not a private array: llvmpipe compiles a
  // 900-element private array for over ten seconds
  const bufs = ioBuffers(k, ['x', 'y'], ['mi', { v: 'joint', elem: 'u32' }]);
  const lines = [
    header('joint-mi', k.name),
    ...decls(bufs),
    binningFns(bins, 'x', 'x'),
    binningFns(bins, 'y', 'y'),
    BIN_FN(bins),
    ...rowEntry(wg, rows),
    `  let base = row * ${L};`,
    `  let jb = row * ${B2 + 2 * bins};`,
    `  for (var q = 0; q < u.bins * (u.bins + 2); q++) { joint[jb + q] = 0u; }`,
    '  let rx = smc_range_x(base, u.L);',
    '  let ry = smc_range_y(base, u.L);',
    '  for (var i = 0; i < u.L; i++) {',
    '    let bx = smc_bin(x[base + i], rx);',
    '    let by = smc_bin(y[base + i], ry);',
    `    joint[jb + bx * ${bins} + by] = joint[jb + bx * ${bins} + by] + 1u;`,
    `    joint[jb + ${B2} + bx] = joint[jb + ${B2} + bx] + 1u;`,
    `    joint[jb + ${B2 + bins} + by] = joint[jb + ${B2 + bins} + by] + 1u;`,
    '  }',
    '  var s = 0.0;',
    '  for (var p = 0; p < u.bins; p++) {',
    '    for (var q = 0; q < u.bins; q++) {',
    `      let n = joint[jb + p * ${bins} + q];`,
    `      if (n > 0u) { s = s + (f32(n) / ${L}.0) * log(${L}.0 * f32(n) / (f32(joint[jb + ${B2} + p]) * f32(joint[jb + ${B2 + bins} + q]))); }`,
    '    }',
    '  }',
    '  mi[row] = max(s, 0.0);',
    '}',
  ];
  return histKernel(k, lines, bufs, wg, cfg);
}
