// WGSL for the LSTM recurrence routines: one workgroup per batch element loops over all time steps of one layer
// and direction; invocations own hidden units and meet at a storage barrier after every step. Shapes and views
// travel in a uniform, so every layer and direction shares one pipeline per routine.
import type { LstmBackwardKernel, LstmForwardKernel, SeqView } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { HelperSet, commentText, grid1d, header } from './wgsl-common.js';

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

const lstmWorkgroup = (cfg: KernelConfig): number => cfg.lstmWorkgroup;

const SIG = 'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidx: u32, @builtin(num_workgroups) nwg: vec3<u32>) {';

export function generateLstmForward(k: LstmForwardKernel, cfg: KernelConfig): LoweredKernel {
  const wg = lstmWorkgroup(cfg);
  const hs = new HelperSet();
  const sig = hs.use('sigmoid', 1);
  const tanh = hs.use('tanh', 1);
  const wgsl = [
    header('lstm-forward', k.name),
    UNIFORM,
    `@group(0) @binding(0) var<storage, read> xproj: array<f32>; // ${commentText(k.inputs[0].name)}`,
    `@group(0) @binding(1) var<storage, read> whh: array<f32>; // ${commentText(k.inputs[1].name)}`,
    `@group(0) @binding(2) var<storage, read_write> hc: array<f32>; // ${commentText(k.outputs[0].name)}`,
    `@group(0) @binding(3) var<storage, read_write> gout: array<f32>; // ${commentText(k.outputs[1].name)}`,
    '@group(0) @binding(4) var<uniform> u: LstmShape;',
    hs.print(),
    `@compute @workgroup_size(${wg})`,
    SIG,
    '  let b = i32(wid.x + wid.y * nwg.x);',
    '  if (b >= u.B) { return; }',
    '  let H = u.H;',
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
    '    storageBarrier();',
    '  }',
    '}',
    '',
  ].join('\n');
  return {
    name: k.name,
    wgsl,
    bindings: [
      { tensor: k.inputs[0].name, access: 'read' },
      { tensor: k.inputs[1].name, access: 'read' },
      { tensor: k.outputs[0].name, access: 'read_write' },
      { tensor: k.outputs[1].name, access: 'read_write' },
    ],
    uniform: lstmUniform(k.batch, k.steps, k.hidden, k.reverse, k.xproj, k.h, k.c),
    workgroups: grid1d(k.batch, 1, cfg.maxWorkgroupsPerDim),
  };
}

export function generateLstmBackward(k: LstmBackwardKernel, cfg: KernelConfig): LoweredKernel {
  const wg = lstmWorkgroup(cfg);
  const hs = new HelperSet();
  const tanh = hs.use('tanh', 1);
  const wgsl = [
    header('lstm-backward', k.name),
    UNIFORM,
    `@group(0) @binding(0) var<storage, read> dhin: array<f32>; // ${commentText(k.inputs[0].name)}`,
    `@group(0) @binding(1) var<storage, read> gates: array<f32>; // ${commentText(k.inputs[1].name)}`,
    `@group(0) @binding(2) var<storage, read> cin: array<f32>; // ${commentText(k.inputs[2].name)}`,
    `@group(0) @binding(3) var<storage, read> whh: array<f32>; // ${commentText(k.inputs[3].name)}`,
    `@group(0) @binding(4) var<storage, read_write> dgates: array<f32>; // ${commentText(k.outputs[0].name)}`,
    `@group(0) @binding(5) var<storage, read_write> dcs: array<f32>; // ${commentText(k.outputs[1].name)}`,
    '@group(0) @binding(6) var<uniform> u: LstmShape;',
    hs.print(),
    `@compute @workgroup_size(${wg})`,
    SIG,
    '  let b = i32(wid.x + wid.y * nwg.x);',
    '  if (b >= u.B) { return; }',
    '  let H = u.H;',
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
    '    storageBarrier();',
    '  }',
    '}',
    '',
  ].join('\n');
  return {
    name: k.name,
    wgsl,
    bindings: [
      ...k.inputs.map((b) => ({ tensor: b.name, access: 'read' as const })),
      ...k.outputs.map((b) => ({ tensor: b.name, access: 'read_write' as const })),
    ],
    uniform: lstmUniform(k.batch, k.steps, k.hidden, k.reverse, k.dh, k.dc, k.c),
    workgroups: grid1d(k.batch, 1, cfg.maxWorkgroupsPerDim),
  };
}
