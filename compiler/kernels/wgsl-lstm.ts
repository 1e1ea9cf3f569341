// WGSL for the LSTM recurrence routines: one workgroup per batch element loops over all time steps of one layer
// and direction; invocations own hidden units and meet at a storage barrier after every step. Shapes and views
// travel in a uniform, so every layer and direction shares one pipeline per routine.
import type { LstmBackwardKernel, LstmForwardKernel, SeqView } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { HelperSet, type StorageBuffer, WORKGROUP_ID, bindingSpecs, entry, grid1d, header, ioBuffers, lowered, storageDecls, uniformDecl, workgroupSignature } from './wgsl-common.js';

const UNIFORM = `struct LstmShape {
  B: i32, T: i32, H: i32, reverse: i32,
  xOff: i32, xB: i32, xT: i32, hOff: i32,
  hB: i32, hT: i32, cOff: i32, cB: i32,
  cT: i32, p0: i32, p1: i32, p2: i32,
}`;

/** Element (b, t, f) of view `p` (forward: x = xproj, h, c; backward: x = dh, h = dc, c = c). */
const view = (p: 'x' | 'h' | 'c', b: string, t: string, f: string): string => `u.${p}Off + ${b} * u.${p}B + ${t} * u.${p}T + ${f}`;

/** Time index of forward-order step s. */
const tOf = (s: string): string => `select(${s}, u.T - 1 - (${s}), u.reverse != 0)`;

function lstmUniform(B: number, T: number, H: number, reverse: boolean, x: SeqView, h: SeqView, c: SeqView): Uint32Array {
  const w = [B, T, H, reverse ? 1 : 0, x.offset, x.batchStride, x.timeStride, h.offset, h.batchStride, h.timeStride, c.offset, c.batchStride, c.timeStride, 0, 0, 0];
  return new Uint32Array(Int32Array.from(w).buffer);
}

/**
 * Shape struct, buffer declarations and uniform, helper functions, then the entry point: one workgroup per batch
 * element `b` (invocations `lidx`), past the batch returns.
 */
const prologue = (kind: string, k: { name: string }, bufs: StorageBuffer[], hs: HelperSet, wg: number): string[] => [
  header(kind, k.name),
  UNIFORM,
  ...storageDecls(bufs),
  uniformDecl(bufs.length, 'LstmShape'),
  hs.print(),
  ...entry(wg, workgroupSignature(), 'b', `i32(${WORKGROUP_ID})`, 'u.B'),
  '  let H = u.H;',
];

/** Each step's invocations meet at a storage barrier; one workgroup per batch element. */
const lstmKernel = (k: { name: string; batch: number }, lines: string[], bufs: StorageBuffer[], uniform: Uint32Array, cfg: KernelConfig): LoweredKernel =>
  lowered(k.name, [...lines, '    storageBarrier();', '  }', '}'], bindingSpecs(bufs), { uniform, workgroups: grid1d(k.batch, 1, cfg.maxWorkgroupsPerDim) });

export function generateLstmForward(k: LstmForwardKernel, cfg: KernelConfig): LoweredKernel {
  const wg = cfg.lstmWorkgroup;
  const hs = new HelperSet();
  const sig = hs.use('sigmoid', 1);
  const tanh = hs.use('tanh', 1);
  const bufs = ioBuffers(k, ['xproj', 'whh'], ['hc', 'gout']);
  const lines = [
    ...prologue('lstm-forward', k, bufs, hs, wg),
    '  for (var s = 0; s < u.T; s++) {',
    `    let t = ${tOf('s')};`,
    `    let tp = ${tOf('s - 1')};`,
    `    for (var j = i32(lidx); j < H; j += ${wg}) {`,
    `      var gi = xproj[${view('x', 'b', 't', 'j')}];`,
    `      var gf = xproj[${view('x', 'b', 't', 'H + j')}];`,
    `      var gg = xproj[${view('x', 'b', 't', '2 * H + j')}];`,
    `      var go = xproj[${view('x', 'b', 't', '3 * H + j')}];`,
    '      var cp = 0.0;',
    '      if (s > 0) {',
    '        for (var q = 0; q < H; q++) {',
    `          let hq = hc[${view('h', 'b', 'tp', 'q')}];`,
    '          gi = gi + whh[j * H + q] * hq;',
    '          gf = gf + whh[(H + j) * H + q] * hq;',
    '          gg = gg + whh[(2 * H + j) * H + q] * hq;',
    '          go = go + whh[(3 * H + j) * H + q] * hq;',
    '        }',
    `        cp = hc[${view('c', 'b', 'tp', 'j')}];`,
    '      }',
    `      let ig = ${sig}(gi);`,
    `      let fg = ${sig}(gf);`,
    `      let gc = ${tanh}(gg);`,
    `      let og = ${sig}(go);`,
    '      let cn = fg * cp + ig * gc;',
    `      hc[${view('c', 'b', 't', 'j')}] = cn;`,
    `      hc[${view('h', 'b', 't', 'j')}] = og * ${tanh}(cn);`,
    '      let gb = (b * u.T + t) * 4 * H + j;',
    '      gout[gb] = ig;',
    '      gout[gb + H] = fg;',
    '      gout[gb + 2 * H] = gc;',
    '      gout[gb + 3 * H] = og;',
    '    }',
  ];
  return lstmKernel(k, lines, bufs, lstmUniform(k.batch, k.steps, k.hidden, k.reverse, k.xproj, k.h, k.c), cfg);
}

export function generateLstmBackward(k: LstmBackwardKernel, cfg: KernelConfig): LoweredKernel {
  const wg = cfg.lstmWorkgroup;
  const hs = new HelperSet();
  const tanh = hs.use('tanh', 1);
  const bufs = ioBuffers(k, ['dhin', 'gates', 'cin', 'whh'], ['dgates', 'dcs']);
  const lines = [
    ...prologue('lstm-backward', k, bufs, hs, wg),
    '  for (var sb = 0; sb < u.T; sb++) {',
    '    let s = u.T - 1 - sb;',
    `    let t = ${tOf('s')};`,
    `    let tn = ${tOf('s + 1')};`,
    `    let tp = ${tOf('s - 1')};`,
    `    for (var j = i32(lidx); j < H; j += ${wg}) {`,
    `      var dh = dhin[${view('x', 'b', 't', 'j')}];`,
    `      var dc = dhin[${view('h', 'b', 't', 'j')}];`,
    '      if (sb > 0) {',
    '        let nb = (b * u.T + tn) * 4 * H;',
    '        for (var r = 0; r < 4 * H; r++) {',
    '          dh = dh + dgates[nb + r] * whh[r * H + j];',
    '        }',
    '        dc = dc + dcs[b * H + j];',
    '      }',
    '      let gb = (b * u.T + t) * 4 * H + j;',
    '      let ig = gates[gb];',
    '      let fg = gates[gb + H];',
    '      let gc = gates[gb + 2 * H];',
    '      let og = gates[gb + 3 * H];',
    `      let cn = cin[${view('c', 'b', 't', 'j')}];`,
    '      var cp = 0.0;',
    `      if (s > 0) { cp = cin[${view('c', 'b', 'tp', 'j')}]; }`,
    `      let tc = ${tanh}(cn);`,
    '      dc = dc + dh * og * (1.0 - tc * tc);',
    '      dgates[gb] = dc * gc * ig * (1.0 - ig);',
    '      dgates[gb + H] = dc * cp * fg * (1.0 - fg);',
    '      dgates[gb + 2 * H] = dc * ig * (1.0 - gc * gc);',
    '      dgates[gb + 3 * H] = dh * tc * og * (1.0 - og);',
    '      dcs[b * H + j] = dc * fg;',
    '    }',
  ];
  return lstmKernel(k, lines, bufs, lstmUniform(k.batch, k.steps, k.hidden, k.reverse, k.dh, k.dc, k.c), cfg);
}
