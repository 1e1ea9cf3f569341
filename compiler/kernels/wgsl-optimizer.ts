// WGSL for the optimizer over its arena: per-block gradient sums of squares, the one-invocation step kernel (norm,
// clip scale, per-parameter used flags, step counts, bias corrections) and torch.optim.Adam, vec4 throughout.
import type { AdamKernel, AdamStepKernel, GradNormKernel, OptimizerLayout } from './ir.js';
import { KernelError } from './errors.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { MAIN_SIGNATURE, type StorageBuffer, WORKGROUP_ID, bindingSpecs, commentText, entry, f32Literal, grid1d, header, lowered, storageDecls, workgroupSignature } from './wgsl-common.js';

/** Coefficient words: (clipScale, 0, 0, 0), then per parameter (used, biasCorrection1, sqrt(biasCorrection2), 0). */
export const coefWords = (layout: OptimizerLayout): number => 4 + 4 * layout.params.length;

/** Block table: per block (start/4, end/4, parameter, group) in vec4 slots. */
export function blockTable(layout: OptimizerLayout): Uint32Array {
  const t = new Uint32Array(Math.max(1, layout.blocks.length) * 4);
  layout.blocks.forEach((b, i) => t.set([b.start / 4, b.end / 4, b.param, layout.params[b.param]!.group], i * 4));
  return t;
}

/** Parameter table: per parameter (first block, end block, 0, 0). */
export function paramTable(layout: OptimizerLayout): Uint32Array {
  const t = new Uint32Array(Math.max(1, layout.params.length) * 4);
  let b = 0;
  layout.params.forEach((_, i) => {
    const first = b;
    while (b < layout.blocks.length && layout.blocks[b]!.param === i) b++;
    t.set([first, b, 0, 0], i * 4);
  });
  return t;
}

export function groupTable(layout: OptimizerLayout): Float32Array {
  const t = new Float32Array(Math.max(1, layout.groups.length) * 4);
  layout.groups.forEach((g, i) => t.set([g.lr, g.weightDecay, 0, 0], i * 4));
  return t;
}

/** The block table as a kernel-private read-only buffer `blocks`. */
const blockBuffer = (k: { name: string; layout: OptimizerLayout }): StorageBuffer => ({
  v: 'blocks',
  tensor: `${k.name}.blocks`,
  access: 'read',
  data: blockTable(k.layout),
  elem: 'vec4<u32>',
  note: 'block table',
});

export function generateGradNorm(k: GradNormKernel, cfg: KernelConfig): LoweredKernel[] {
  if (fitsBinding(k.inputs[0].size, cfg)) return [gradNormKernel(k, cfg)];
  const chunks = optimizerChunks(k, cfg);
  return chunks.map((ch, i) => gradNormKernel(k, cfg, ch, `${k.name}.chunk${i}`));
}

/** Per block of the Adam kernels: skip unused parameters, then the group's lr / weight decay, the clip factor and
 *  the bias corrections from the step kernel's coefficients. */
const ADAM_BLOCK_PROLOGUE = [
  '  let blk = blocks[bi];',
    '  let c = 4u + 4u * blk.z;',
    '  if (coefs[c] == 0.0) { return; }',
    '  let grp = groups[blk.w];',
    '  let wd = grp.y;',
    '  let clip = coefs[0];',
    '  let stepSize = grp.x / coefs[c + 1u];',
    '  let bc2sqrt = coefs[c + 2u];',
];

/** The whole gradient arena in one binding, or (chunk) the blocks of one chunk, writing their global partials. */
function gradNormKernel(k: GradNormKernel, cfg: KernelConfig, ch?: OptimizerChunk, name = k.name): LoweredKernel {
  const nb = ch ? ch.b1 - ch.b0 : k.layout.blocks.length;
  const wg = cfg.elementwiseWorkgroup;
  const bufs: StorageBuffer[] = [
    { v: 'grads', tensor: k.inputs[0].name, access: 'read', elem: 'vec4<f32>', ...(ch ? { range: chunkRange(ch, 0) } : {}) },
    ch ? { ...blockBuffer({ name, layout: chunkLayout(k.layout, ch) }), note: `block table of blocks [${ch.b0}, ${ch.b1}) from element ${ch.base}` } : blockBuffer(k),
    { v: 'partials', tensor: k.outputs[0].name, access: 'read_write' },
  ];
  const lines = [
    header('grad-norm', name),
    ...storageDecls(bufs),
    ...entry(wg, MAIN_SIGNATURE, 'bi', `gid.x + gid.y * nwg.x * ${wg}u`, `${nb}u`),
    '  let blk = blocks[bi];',
    '  var s = vec4<f32>(0.0);',
    '  for (var i = blk.x; i < blk.y; i++) { let g = grads[i]; s = s + g * g; }',
    ch ? `  partials[${ch.b0}u + bi] = (s.x + s.y) + (s.z + s.w);` : '  partials[bi] = (s.x + s.y) + (s.z + s.w);',
    '}',
  ];
  return lowered(name, lines, bindingSpecs(bufs), { workgroups: grid1d(nb, wg, cfg.maxWorkgroupsPerDim) });
}

export function generateAdamStep(k: AdamStepKernel, cfg: KernelConfig): LoweredKernel {
  const np = k.layout.params.length;
  const arenaSize = k.outputs[0].size;
  // an arena above the binding limit: bind only its tail (step counts and norm) from an aligned element
  const align = cfg.storageOffsetAlignment / 4;
  const base = fitsBinding(arenaSize, cfg) ? 0 : Math.floor((3 * k.layout.size) / align) * align;
  const steps = 3 * k.layout.size - base;
  const maxNorm = k.maxNorm ?? 0;
  const bufs: StorageBuffer[] = [
    { v: 'partials', tensor: k.inputs[0].name, access: 'read' },
    { v: 'params', tensor: `${k.name}.params`, access: 'read', data: paramTable(k.layout), elem: 'vec4<u32>', note: '(first block, end block) per parameter' },
    { v: 'arena', tensor: k.outputs[0].name, access: 'read_write', ...(base > 0 ? { range: { offset: base, size: arenaSize - base }, note: `${commentText(k.outputs[0].name)} from element ${base}` } : {}) },
    { v: 'coefs', tensor: k.outputs[1].name, access: 'read_write' },
  ];
  const lines = [
    header('adam-step', k.name),
    ...storageDecls(bufs),
    '// 1 - b^t = -expm1(t ln b): a series for small |t ln b| keeps the relative error near 1e-7 (pow loses ~1e-5)',
    'fn smc_one_minus_pow(lnb: f32, t: f32) -> f32 {',
    '  let x = t * lnb;',
    '  let s = x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668 + x * (0.008333334 + x * 0.0013888889)))));',
    '  return select(1.0 - exp(x), -s, abs(x) < 0.25);',
    '}',
    '@compute @workgroup_size(1)',
    'fn main() {',
    '  var total = 0.0;',
    `  for (var i = 0u; i < ${np}u; i++) {`,
    '    let r = params[i];',
    '    var s = 0.0;',
    '    for (var b = r.x; b < r.y; b++) { s = s + partials[b]; }',
    '    total = total + s;',
    // torch skips a parameter whose .grad is None: here, an all-zero gradient
    k.skipUnused ? '    let used = select(0.0, 1.0, s > 0.0);' : '    let used = 1.0;',
    `    let t = arena[${steps}u + i] + used;`,
    `    arena[${steps}u + i] = t;`,
    '    let tb = max(t, 1.0);',
    '    coefs[4u + 4u * i] = used;',
    `    coefs[5u + 4u * i] = smc_one_minus_pow(${f32Literal(Math.log(Math.fround(k.beta1)))}, tb);`,
    `    coefs[6u + 4u * i] = sqrt(smc_one_minus_pow(${f32Literal(Math.log(Math.fround(k.beta2)))}, tb));`,
    '  }',
    '  let norm = sqrt(total);',
    `  arena[${steps + np}u] = norm;`,
    maxNorm > 0 ? `  coefs[0] = min(${f32Literal(maxNorm)} / (norm + 1e-6), 1.0);` : '  coefs[0] = 1.0;',
    '}',
  ];
  return lowered(k.name, lines, bindingSpecs(bufs), { workgroups: [1, 1, 1] });
}

export function generateAdam(k: AdamKernel, cfg: KernelConfig): LoweredKernel[] {
  if (fitsBinding(k.inputs[0].size, cfg) && fitsBinding(k.outputs[0].size, cfg)) return [adamKernel(k, cfg)];
  return optimizerChunks(k, cfg).map((ch, i) => adamChunkKernel(k, cfg, ch, `${k.name}.chunk${i}`));
}

function adamKernel(k: AdamKernel, cfg: KernelConfig): LoweredKernel {
  const nb = k.layout.blocks.length;
  const wg = cfg.reduction === 'row' ? 64 : cfg.elementwiseWorkgroup;
  const [b1, b2] = [f32Literal(k.beta1), f32Literal(k.beta2)];
  // 1 − β as the graph's constants: rounded from f64, not computed in f32
  const [c1, c2] = [f32Literal(1 - k.beta1), f32Literal(1 - k.beta2)];
  const [mAt, vAt] = [k.layout.size / 4, (2 * k.layout.size) / 4];
  const bufs: StorageBuffer[] = [
    { v: 'grads', tensor: k.inputs[0].name, access: 'read', elem: 'vec4<f32>' },
    { v: 'coefs', tensor: k.inputs[1].name, access: 'read' },
    blockBuffer(k),
    { v: 'groups', tensor: `${k.name}.groups`, access: 'read', data: groupTable(k.layout), elem: 'vec4<f32>', note: '(lr, weight decay) per group' },
    { v: 'arena', tensor: k.outputs[0].name, access: 'read_write', elem: 'vec4<f32>', note: `${commentText(k.outputs[0].name)}: params, m, v` },
  ];
  const lines = [
    header('adam', k.name),
    ...storageDecls(bufs),
    ...entry(wg, workgroupSignature('lid'), 'bi', WORKGROUP_ID, `${nb}u`),
    ...ADAM_BLOCK_PROLOGUE,
    `  for (var i = blk.x + lid; i < blk.y; i += ${wg}u) {`,
    '    let p = arena[i];',
    '    let g = grads[i] * clip + p * wd;',
    `    let m = arena[${mAt}u + i] * ${b1} + g * ${c1};`,
    `    let v = arena[${vAt}u + i] * ${b2} + (g * g) * ${c2};`,
    `    arena[${mAt}u + i] = m;`,
    `    arena[${vAt}u + i] = v;`,
    `    let denom = sqrt(v) / bc2sqrt + ${f32Literal(k.eps)};`,
    '    arena[i] = p - stepSize * (m / denom);',
    '  }',
    '}',
  ];
  return lowered(k.name, lines, bindingSpecs(bufs), { workgroups: grid1d(nb, 1, cfg.maxWorkgroupsPerDim) });
}

/**
 * Adam over one chunk of the arena: the gradients, parameters, m and v of the chunk's element range each bound
 * on their own (block table relative to the chunk's first element), so no binding spans more than the chunk.
 */
function adamChunkKernel(k: AdamKernel, cfg: KernelConfig, ch: OptimizerChunk, name: string): LoweredKernel {
  const nb = ch.b1 - ch.b0;
  const wg = cfg.reduction === 'row' ? 64 : cfg.elementwiseWorkgroup;
  const [b1, b2] = [f32Literal(k.beta1), f32Literal(k.beta2)];
  const [c1, c2] = [f32Literal(1 - k.beta1), f32Literal(1 - k.beta2)];
  const arena = k.outputs[0].name;
  const part = (v: string, region: number, what: string): StorageBuffer => ({
    v, tensor: arena, access: 'read_write', elem: 'vec4<f32>', range: chunkRange(ch, region * k.layout.size), note: `${commentText(arena)}: ${what} from element ${ch.base}`,
  });
  const bufs: StorageBuffer[] = [
    { v: 'grads', tensor: k.inputs[0].name, access: 'read', elem: 'vec4<f32>', range: chunkRange(ch, 0) },
    { v: 'coefs', tensor: k.inputs[1].name, access: 'read' },
    { ...blockBuffer({ name, layout: chunkLayout(k.layout, ch) }), note: `block table of blocks [${ch.b0}, ${ch.b1}) from element ${ch.base}` },
    { v: 'groups', tensor: `${name}.groups`, access: 'read', data: groupTable(k.layout), elem: 'vec4<f32>', note: '(lr, weight decay) per group' },
    part('p', 0, 'params'),
    part('m', 1, 'm'),
    part('v', 2, 'v'),
  ];
  const lines = [
    header('adam', name),
    ...storageDecls(bufs),
    ...entry(wg, workgroupSignature('lid'), 'bi', WORKGROUP_ID, `${nb}u`),
    ...ADAM_BLOCK_PROLOGUE,
    `  for (var i = blk.x + lid; i < blk.y; i += ${wg}u) {`,
    '    let pi = p[i];',
    '    let g = grads[i] * clip + pi * wd;',
    `    let mi = m[i] * ${b1} + g * ${c1};`,
    `    let vi = v[i] * ${b2} + (g * g) * ${c2};`,
    '    m[i] = mi;',
    '    v[i] = vi;',
    `    let denom = sqrt(vi) / bc2sqrt + ${f32Literal(k.eps)};`,
    '    p[i] = pi - stepSize * (mi / denom);',
    '  }',
    '}',
  ];
  return lowered(name, lines, bindingSpecs(bufs), { workgroups: grid1d(nb, 1, cfg.maxWorkgroupsPerDim) });
}

/** Whether a tensor of `elems` f32 elements fits one storage binding. */
const fitsBinding = (elems: number, cfg: KernelConfig): boolean => elems * 4 <= cfg.maxStorageBufferBindingSize;

/** Consecutive blocks [b0, b1) whose elements lie in [base, end); base is a multiple of the storage alignment. */
export interface OptimizerChunk {
  b0: number;
  b1: number;
  base: number;
  end: number;
}

/**
 * The blocks split greedily into chunks whose element range (from an aligned start) fits one storage binding:
 * a gradient arena or parameter / m / v region above maxStorageBufferBindingSize is bound chunk by chunk.
 */
export function optimizerChunks(k: { name: string; layout: OptimizerLayout; inputs: { name: string }[] }, cfg: KernelConfig): OptimizerChunk[] {
  const align = cfg.storageOffsetAlignment / 4;
  const maxElems = Math.floor(cfg.maxStorageBufferBindingSize / 16) * 4;
  const blocks = k.layout.blocks;
  const chunks: OptimizerChunk[] = [];
  for (let b = 0; b < blocks.length; ) {
    const base = Math.floor(blocks[b]!.start / align) * align;
    let e = b;
    while (e < blocks.length && blocks[e]!.end - base <= maxElems) e++;
    if (e === b) {
      throw new KernelError(
        'SMC4102',
        `a block of ${(blocks[b]!.end - base) * 4} bytes of tensor ${k.inputs[0].name} (with alignment) does not fit the adapter's maxStorageBufferBindingSize of ${cfg.maxStorageBufferBindingSize} bytes`,
        k.name,
      );
    }
    chunks.push({ b0: b, b1: e, base, end: blocks[e - 1]!.end });
    b = e;
  }
  return chunks;
}

/** Element range of a chunk inside a region starting at element `region` of its tensor. */
const chunkRange = (ch: OptimizerChunk, region: number): { offset: number; size: number } => ({ offset: region + ch.base, size: ch.end - ch.base });

/** The chunk's blocks, their element ranges relative to the chunk's base. */
const chunkLayout = (layout: OptimizerLayout, ch: OptimizerChunk): OptimizerLayout => ({
  ...layout,
  blocks: layout.blocks.slice(ch.b0, ch.b1).map((b) => ({ ...b, start: b.start - ch.base, end: b.end - ch.base })),
});

/**
 * The kernels' layout of a parameter region: each parameter split into blocks of at most `blockElems` f32
 * elements (starts are multiples of 4; a block's end rounds the parameter's length up to a vec4).
 */
export function optimizerLayout(
  size: number,
  params: OptimizerLayout['params'],
  groups: OptimizerLayout['groups'],
  blockElems = 4096,
): OptimizerLayout {
  const blocks: OptimizerLayout['blocks'] = [];
  params.forEach((r, param) => {
    const end = r.start + Math.ceil(r.length / 4) * 4;
    for (let s = r.start; s < end; s += blockElems) blocks.push({ start: s, end: Math.min(end, s + blockElems), param });
  });
  return { size, params, blocks, groups };
}
