// WGSL for the LSTM recurrence routines. One workgroup per batch element (workgroup_id.x, with .y past 65535
// samples) and lane (workgroup_id.z: the directions of a layer run side by side in one dispatch) loops over all
// time steps; invocations own hidden units and meet at a barrier after every step. The state a step hands to the
// next (forward: h_{t-1} and c_{t-1}; backward: the previous step's gate gradients and the carried dc) lives in
// workgroup memory when it fits (`cfg.maxWorkgroupStorage`), else it is read back from the outputs in global memory.
// Shapes and views travel in a uniform (a constant H would let the compiler unroll the step loops, which costs
// llvmpipe seconds of JIT per kernel); the workgroup arrays are sized for the kernel's H: every layer and direction
// of one width shares a pipeline per routine.
import type { LstmBackwardKernel, LstmForwardKernel, SeqView } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { KernelError } from './errors.js';
import { HelperSet, type StorageBuffer, WORKGROUP_ID, bindingSpecs, entry, grid1d, header, ioBuffers, lowered, storageDecls, uniformDecl, workgroupSignature } from './wgsl-common.js';

/** 16 words per lane: what each kernel reads of its lanes, in four vec4<i32>. */
const UNIFORM = (lanes: number): string => `struct LstmLane {
  a: vec4<i32>, b: vec4<i32>, c: vec4<i32>, d: vec4<i32>,
}
struct LstmShape {
  B: i32, T: i32, H: i32, p0: i32,
  lanes: array<LstmLane, ${lanes}>,
}`;

const view = (v: SeqView): number[] => [v.offset, v.batchStride, v.timeStride];

function lstmUniform(B: number, T: number, H: number, lanes: number[][]): Uint32Array {
  const w = [B, T, H, 0, ...lanes.flatMap((l) => [...l, ...new Array<number>(16 - l.length).fill(0)])];
  return new Uint32Array(Int32Array.from(w).buffer);
}

/** Workgroup size for `units` work items per step: a multiple of the granule, at most the configured maximum. */
const workgroupSize = (units: number, cfg: KernelConfig): number =>
  Math.max(1, Math.min(cfg.lstm.workgroup, Math.ceil(units / cfg.lstm.granule) * cfg.lstm.granule));

/** Index expression of element (b, t, f) of a view whose offset and strides are the uniform fields `o`, `sb`, `st`. */
const at = (o: string, sb: string, st: string, t: string, f: string): string => `${o} + b * ${sb} + ${t} * ${st} + ${f}`;

/**
 * Header, constants, uniform, buffers, workgroup arrays, helpers, then the entry point: batch element `b` (past the
 * batch returns), lane `lane` and its uniform record `L`.
 */
const prologue = (kind: string, k: { name: string; hidden: number; lanes: unknown[] }, bufs: StorageBuffer[], shared: string[], hs: HelperSet, wg: number): string[] => [
  header(kind, k.name),
  `const HW: i32 = ${k.hidden}; // sizes the workgroup arrays`,
  UNIFORM(k.lanes.length),
  ...storageDecls(bufs),
  uniformDecl(bufs.length, 'LstmShape'),
  ...shared,
  hs.print(),
  ...entry(wg, workgroupSignature(), 'b', `i32(${WORKGROUP_ID})`, 'u.B'),
  '  let H = u.H;',
  '  let lane = i32(wid.z);',
  '  let L = u.lanes[lane];',
  '  let rev = L.a.x != 0;',
];

/** One workgroup per batch element and lane: grid (B, 1, lanes), B split over x and y past maxWorkgroupsPerDim. */
function lstmKernel(k: { name: string; batch: number; lanes: unknown[] }, lines: string[], bufs: StorageBuffer[], uniform: Uint32Array, cfg: KernelConfig): LoweredKernel {
  const [x, y] = grid1d(k.batch, 1, cfg.maxWorkgroupsPerDim);
  return lowered(k.name, lines, bindingSpecs(bufs), {
    uniform, workgroups: [x, y, k.lanes.length], bound: { word: 0, items: k.batch }, // u.B
  });
}

/**
 * Forward: invocation j owns hidden unit j (and j + wg, …). Per step it computes the unit's four gate
 * pre-activations as one vec4: x_t·W_ihᵀ + b (xproj) + Σ_q W_hh[:, q]·h_{t-1}[q], reading the lane's W_hh packed
 * as (q, j, gate) so that neighbouring invocations read neighbouring vec4s, then updates c and h. With workgroup
 * memory, h_{t-1} (double-buffered: one barrier per step) and c_{t-1} never leave the workgroup between steps.
 */
export function generateLstmForward(k: LstmForwardKernel, cfg: KernelConfig): LoweredKernel {
  const H = k.hidden;
  const wg = workgroupSize(H, cfg);
  const shared = 12 * H <= cfg.maxWorkgroupStorage;
  if (k.whh.offset % 4 !== 0 || k.whh.laneStride % 4 !== 0) throw new KernelError('SMC4101', 'packed W_hh must start every lane at a multiple of 4', k.name);
  const hs = new HelperSet();
  const sig = hs.use('sigmoid', 1);
  const tanh = hs.use('tanh', 1);
  const bufs = ioBuffers(k, ['xproj', { v: 'whhp', elem: 'vec4<f32>' }], ['hc', 'gout']);
  const hPrev = shared ? 'hs[cur + q]' : `hc[${at('hOff', 'hB', 'hT', 'tp', 'q')}]`;
  const lines = [
    ...prologue('lstm-forward', k, bufs, shared ? [
      'var<workgroup> hs: array<f32, 2 * HW>; // h_{t-1} and h_t, alternating halves',
      'var<workgroup> cs: array<f32, HW>; // c_{t-1}, each unit its own',
    ] : [], hs, wg),
    '  let xOff = L.a.y; let xB = L.a.z; let xT = L.a.w;',
    '  let hOff = L.b.x; let hB = L.b.y; let hT = L.b.z;',
    '  let cOff = L.b.w; let cB = L.c.x; let cT = L.c.y;',
    '  let gOff = L.c.z; let gB = L.c.w; let gT = L.d.x;',
    '  let w0 = L.d.y; // this lane\'s packed W_hh, in vec4s',
    '  for (var s = 0; s < u.T; s++) {',
    '    let t = select(s, u.T - 1 - s, rev);',
    '    let tp = select(s - 1, u.T - s, rev);',
    ...(shared ? ['    let cur = (s & 1) * H;', '    let nxt = H - cur;'] : []),
    `    for (var j = i32(lidx); j < H; j += ${wg}) {`,
    `      let xb = ${at('xOff', 'xB', 'xT', 't', 'j')};`,
    '      var a = vec4<f32>(xproj[xb], xproj[xb + H], xproj[xb + 2 * H], xproj[xb + 3 * H]);',
    '      var cp = 0.0;',
    '      if (s > 0) {',
    '        for (var q = 0; q < H; q++) {',
    `          a = a + whhp[w0 + q * H + j] * ${hPrev};`,
    '        }',
    `        cp = ${shared ? 'cs[j]' : `hc[${at('cOff', 'cB', 'cT', 'tp', 'j')}]`};`,
    '      }',
    `      let ig = ${sig}(a.x);`,
    `      let fg = ${sig}(a.y);`,
    `      let gc = ${tanh}(a.z);`,
    `      let og = ${sig}(a.w);`,
    '      let cn = fg * cp + ig * gc;',
    `      let hn = og * ${tanh}(cn);`,
    `      hc[${at('cOff', 'cB', 'cT', 't', 'j')}] = cn;`,
    `      hc[${at('hOff', 'hB', 'hT', 't', 'j')}] = hn;`,
    `      let gb = ${at('gOff', 'gB', 'gT', 't', 'j')};`,
    '      gout[gb] = ig;',
    '      gout[gb + H] = fg;',
    '      gout[gb + 2 * H] = gc;',
    '      gout[gb + 3 * H] = og;',
    ...(shared ? ['      hs[nxt + j] = hn;', '      cs[j] = cn;'] : []),
    '    }',
    shared ? '    workgroupBarrier();' : '    storageBarrier();',
    '  }',
    '}',
  ];
  const lanes = k.lanes.map((l, i) => [l.reverse ? 1 : 0, ...view(l.xproj), ...view(l.h), ...view(l.c), ...view(l.gates), (k.whh.offset + i * k.whh.laneStride) / 4]);
  return lstmKernel(k, lines, bufs, lstmUniform(k.batch, k.steps, k.hidden, lanes), cfg);
}

/**
 * Backward, steps in reverse: invocation j owns hidden unit j (and j + wg, …) and computes dh = dOut_h + the
 * previous step's gate gradients times W_hh (Σ over the 4H gate rows), the carried dc, and this step's gate
 * gradients. The previous step's gate gradients come from workgroup memory (double-buffered: one barrier per
 * step) when it fits. The dh sum reads, by `cfg.lstm.backward`: 'rows', the lane's W_hh [4H, H] row by row
 * (neighbouring invocations read neighbouring columns: coalesced on a GPU); 'packed', the forward's packed W_hh,
 * unit j's (j', gate) block contiguous, as one vec4 dot product per unit j' (a software adapter: a quarter of the
 * loop iterations, loads in cache order).
 */
export function generateLstmBackward(k: LstmBackwardKernel, cfg: KernelConfig): LoweredKernel {
  const H = k.hidden;
  const packed = cfg.lstm.backward === 'packed' ? k.whhPacked : undefined;
  const wg = workgroupSize(H, cfg);
  const shared = 36 * H <= cfg.maxWorkgroupStorage;
  const hs = new HelperSet();
  const tanh = hs.use('tanh', 1);
  if (packed && (packed.offset % 4 !== 0 || packed.laneStride % 4 !== 0)) throw new KernelError('SMC4101', 'packed W_hh must start every lane at a multiple of 4', k.name);
  // the weights read: the packed copy, or each lane's W_hh (named after the first lane reading it); the rest unbound
  const wName = (input: number): string => (packed ? (input === packed.input ? 'whhp' : '') : (i => (i >= 0 ? `whh${i}` : ''))(k.lanes.findIndex((l) => l.whh === input)));
  const ins = ['dout', 'gates', 'hin', ...k.inputs.slice(3).map((_, i) => ({ v: wName(i + 3) || `unused${i}`, elem: packed ? 'vec4<f32>' : 'f32' }))];
  const bufs = ioBuffers(k, ins, ['dgates', 'dcs']).filter((b) => !b.v.startsWith('unused'));
  const dgRow = (g: string, jj: string): string => (shared ? `dgs[prv + ${g} * H + ${jj}]` : `dgates[${at('dgOff', 'dgB', 'dgT', 'tn', `${g} * H + ${jj}`)}]`);
  let dhLoop: string[];
  if (packed) {
    const w = 'whhp';
    const g4 = shared ? 'dgs4[prv4 + q]' : `vec4<f32>(${[0, 1, 2, 3].map((g) => dgRow(String(g), 'q')).join(', ')})`;
    dhLoop = [`        for (var q = 0; q < H; q++) { dh = dh + dot(${g4}, ${w}[w0 + j * H + q]); }`];
  } else {
    const lanes = k.lanes.map((l) => wName(l.whh));
    const loop = (w: string): string => `for (var r = 0; r < 4 * H; r++) { dh = dh + ${shared ? 'dgs[prv + r]' : dgRow('0', 'r')} * ${w}[r * H + j]; }`;
    dhLoop = new Set(lanes).size === 1
      ? [`        ${loop(lanes[0]!)}`]
      : lanes.map((w, i) => `        ${i === 0 ? '' : '} else '}${i < lanes.length - 1 ? `if (lane == ${i}) ` : ''}{ ${loop(w)}`).concat('        }');
  }
  // workgroup memory: the gate gradients (gate-major for 'rows'; per unit a vec4 of its four gates for 'packed',
  // which the dh loop reads as dgs4) and each unit's carried dc
  const sharedDecls = !shared ? [] : packed ? [
    'var<workgroup> dgs4: array<vec4<f32>, 2 * HW>; // per unit its four gate gradients, of the step done last and of this one, alternating halves',
    'var<workgroup> dcw: array<f32, HW>; // carried dc, each unit its own',
  ] : [
    'var<workgroup> dgs: array<f32, 8 * HW>; // gate gradients of the step done last and of this one, alternating halves',
    'var<workgroup> dcw: array<f32, HW>; // carried dc, each unit its own',
  ];
  const lines = [
    ...prologue('lstm-backward', k, bufs, sharedDecls, hs, wg),
    '  let dhOff = L.a.y; let dhB = L.a.z; let dhT = L.a.w;',
    '  let dcOff = L.b.x; let dcB = L.b.y; let dcT = L.b.z;',
    '  let cOff = L.b.w; let cB = L.c.x; let cT = L.c.y;',
    '  let gOff = L.c.z; let gB = L.c.w; let gT = L.d.x;',
    '  let dgOff = L.d.y; let dgB = L.d.z; let dgT = L.d.w;',
    ...(packed ? [`  let w0 = ${packed.offset ? `${packed.offset / 4} + ` : ''}lane * ${packed.laneStride / 4}; // this lane's packed W_hh, in vec4s`] : []),
    '  for (var sb = 0; sb < u.T; sb++) {',
    '    let s = u.T - 1 - sb;',
    '    let t = select(s, u.T - 1 - s, rev);',
    '    let tp = select(s - 1, u.T - s, rev);',
    ...(!shared ? ['    let tn = select(s + 1, u.T - 2 - s, rev);']
      : packed ? ['    let cur4 = (sb & 1) * H;', '    let prv4 = H - cur4;']
        : ['    let cur = (sb & 1) * 4 * H;', '    let prv = 4 * H - cur;']),
    `    for (var j = i32(lidx); j < H; j += ${wg}) {`,
    `      var dh = dout[${at('dhOff', 'dhB', 'dhT', 't', 'j')}];`,
    `      var dc = dout[${at('dcOff', 'dcB', 'dcT', 't', 'j')}];`,
    '      if (sb > 0) {',
    ...dhLoop,
    `        dc = dc + ${shared ? 'dcw[j]' : 'dcs[(lane * u.B + b) * H + j]'};`,
    '      }',
    `      let gb = ${at('gOff', 'gB', 'gT', 't', 'j')};`,
    '      let ig = gates[gb];',
    '      let fg = gates[gb + H];',
    '      let gc = gates[gb + 2 * H];',
    '      let og = gates[gb + 3 * H];',
    `      let cn = hin[${at('cOff', 'cB', 'cT', 't', 'j')}];`,
    '      var cp = 0.0;',
    `      if (s > 0) { cp = hin[${at('cOff', 'cB', 'cT', 'tp', 'j')}]; }`,
    `      let tc = ${tanh}(cn);`,
    '      dc = dc + dh * og * (1.0 - tc * tc);',
    '      let d0 = dc * gc * ig * (1.0 - ig);',
    '      let d1 = dc * cp * fg * (1.0 - fg);',
    '      let d2 = dc * ig * (1.0 - gc * gc);',
    '      let d3 = dh * tc * og * (1.0 - og);',
    `      let db = ${at('dgOff', 'dgB', 'dgT', 't', 'j')};`,
    '      dgates[db] = d0;',
    '      dgates[db + H] = d1;',
    '      dgates[db + 2 * H] = d2;',
    '      dgates[db + 3 * H] = d3;',
    ...(!shared ? ['      dcs[(lane * u.B + b) * H + j] = dc * fg;']
      : packed ? ['      dgs4[cur4 + j] = vec4<f32>(d0, d1, d2, d3);', '      dcw[j] = dc * fg;']
        : ['      dgs[cur + j] = d0;', '      dgs[cur + H + j] = d1;', '      dgs[cur + 2 * H + j] = d2;', '      dgs[cur + 3 * H + j] = d3;', '      dcw[j] = dc * fg;']),
    '    }',
    shared ? '    workgroupBarrier();' : '    storageBarrier();',
    '  }',
    '}',
  ];
  const lanes = k.lanes.map((l) => [l.reverse ? 1 : 0, ...view(l.dh), ...view(l.dc), ...view(l.c), ...view(l.gates), ...view(l.dgates)]);
  return lstmKernel(k, lines, bufs, lstmUniform(k.batch, k.steps, k.hidden, lanes), cfg);
}
