// WGSL for the optimizer: global-norm partial sums, the one-invocation finaliser (clip scale, step count, bias
// corrections) and torch.optim.Adam over the parameter arena, one workgroup per block, vec4 throughout.
import type { AdamKernel, GradNormKernel, OptimizerLayout } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { commentText, f32Literal, grid1d, header } from './wgsl-common.js';

/** Optimizer state words: [norm, clipScale, step, biasCorrection1, sqrt(biasCorrection2), 0, 0, 0]. */
export const OPT_STATE_WORDS = 8;

/** Block table: per block (start/4, end/4, group, 0) in vec4 slots. */
export function blockTable(layout: OptimizerLayout): Uint32Array {
  const t = new Uint32Array(Math.max(1, layout.blocks.length) * 4);
  layout.blocks.forEach((b, i) => t.set([b.start / 4, b.end / 4, b.group, 0], i * 4));
  return t;
}

export function groupTable(layout: OptimizerLayout): Float32Array {
  const t = new Float32Array(Math.max(1, layout.groups.length) * 4);
  layout.groups.forEach((g, i) => t.set([g.lr, g.weightDecay, 0, 0], i * 4));
  return t;
}

export function generateGradNorm(k: GradNormKernel, cfg: KernelConfig): LoweredKernel[] {
  const nb = k.layout.blocks.length;
  const wg = cfg.elementwiseWorkgroup;
  const table = `${k.name}.blocks`;
  const partials = [
    header('grad-norm-partials', `${k.name}.partials`),
    `@group(0) @binding(0) var<storage, read> grads: array<vec4<f32>>; // ${commentText(k.inputs[0].name)}`,
    `@group(0) @binding(1) var<storage, read> blocks: array<vec4<u32>>; // block table`,
    `@group(0) @binding(2) var<storage, read_write> partials: array<f32>; // ${commentText(k.outputs[0].name)}`,
    `@compute @workgroup_size(${wg})`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
    `  let bi = gid.x + gid.y * nwg.x * ${wg}u;`,
    `  if (bi >= ${nb}u) { return; }`,
    '  let blk = blocks[bi];',
    '  var s = vec4<f32>(0.0);',
    '  for (var i = blk.x; i < blk.y; i++) { let g = grads[i]; s = s + g * g; }',
    '  partials[bi] = (s.x + s.y) + (s.z + s.w);',
    '}',
    '',
  ].join('\n');
  const maxNorm = k.maxNorm ?? 0;
  const finalize = [
    header('grad-norm-finalize', `${k.name}.finalize`),
    `@group(0) @binding(0) var<storage, read> partials: array<f32>; // ${commentText(k.outputs[0].name)}`,
    `@group(0) @binding(1) var<storage, read_write> state: array<f32>; // ${commentText(k.outputs[1].name)}`,
    '// 1 - b^t = -expm1(t ln b): a series for small |t ln b| keeps the relative error near 1e-7 (pow loses ~1e-5)',
    'fn smc_one_minus_pow(lnb: f32, t: f32) -> f32 {',
    '  let x = t * lnb;',
    '  let s = x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668 + x * (0.008333334 + x * 0.0013888889)))));',
    '  return select(1.0 - exp(x), -s, abs(x) < 0.25);',
    '}',
    '@compute @workgroup_size(1)',
    'fn main() {',
    '  var total = 0.0;',
    `  for (var i = 0; i < ${nb}; i++) { total = total + partials[i]; }`,
    '  let norm = sqrt(total);',
    '  state[0] = norm;',
    maxNorm > 0 ? `  state[1] = min(1.0, ${f32Literal(maxNorm)} / (norm + 1e-6));` : '  state[1] = 1.0;',
    '  let step = state[2] + 1.0;',
    '  state[2] = step;',
    `  state[3] = smc_one_minus_pow(${f32Literal(Math.log(k.beta1))}, step);`,
    `  state[4] = sqrt(smc_one_minus_pow(${f32Literal(Math.log(k.beta2))}, step));`,
    '}',
    '',
  ].join('\n');
  return [
    {
      name: `${k.name}.partials`,
      wgsl: partials,
      bindings: [
        { tensor: k.inputs[0].name, access: 'read' },
        { tensor: table, access: 'read', data: blockTable(k.layout) },
        { tensor: k.outputs[0].name, access: 'read_write' },
      ],
      workgroups: grid1d(nb, wg, cfg.maxWorkgroupsPerDim),
    },
    {
      name: `${k.name}.finalize`,
      wgsl: finalize,
      bindings: [
        { tensor: k.outputs[0].name, access: 'read' },
        { tensor: k.outputs[1].name, access: 'read_write' },
      ],
      workgroups: [1, 1, 1],
    },
  ];
}

export function generateAdam(k: AdamKernel, cfg: KernelConfig): LoweredKernel {
  const nb = k.layout.blocks.length;
  const wg = cfg.reduction === 'row' ? 64 : cfg.elementwiseWorkgroup;
  const b1 = f32Literal(k.beta1);
  const b2 = f32Literal(k.beta2);
  const wgsl = [
    header('adam', k.name),
    `@group(0) @binding(0) var<storage, read> grads: array<vec4<f32>>; // ${commentText(k.inputs[0].name)}`,
    `@group(0) @binding(1) var<storage, read> state: array<f32>; // ${commentText(k.inputs[1].name)}`,
    '@group(0) @binding(2) var<storage, read> blocks: array<vec4<u32>>; // block table',
    '@group(0) @binding(3) var<storage, read> groups: array<vec4<f32>>; // (lr, weight decay) per group',
    `@group(0) @binding(4) var<storage, read_write> params: array<vec4<f32>>; // ${commentText(k.outputs[0].name)}`,
    `@group(0) @binding(5) var<storage, read_write> m1: array<vec4<f32>>; // ${commentText(k.outputs[1].name)}`,
    `@group(0) @binding(6) var<storage, read_write> m2: array<vec4<f32>>; // ${commentText(k.outputs[2].name)}`,
    `@compute @workgroup_size(${wg})`,
    'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {',
    '  let bi = wid.x + wid.y * nwg.x;',
    `  if (bi >= ${nb}u) { return; }`,
    '  let blk = blocks[bi];',
    '  let grp = groups[blk.z];',
    '  let lr = grp.x;',
    '  let wd = grp.y;',
    '  let clip = state[1];',
    '  let stepSize = lr / state[3];',
    '  let bc2sqrt = state[4];',
    `  for (var i = blk.x + lid; i < blk.y; i += ${wg}u) {`,
    '    let p = params[i];',
    '    let g = grads[i] * clip + wd * p;',
    // torch: exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value = 1 - beta2)
    `    let m = m1[i] + (1.0 - ${b1}) * (g - m1[i]);`,
    `    let v = m2[i] * ${b2} + (1.0 - ${b2}) * (g * g);`,
    '    m1[i] = m;',
    '    m2[i] = v;',
    `    let denom = sqrt(v) / bc2sqrt + ${f32Literal(k.eps)};`,
    '    params[i] = p + (-stepSize) * (m / denom);',
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
      { tensor: `${k.name}.blocks`, access: 'read', data: blockTable(k.layout) },
      { tensor: `${k.name}.groups`, access: 'read', data: groupTable(k.layout) },
      { tensor: k.outputs[0].name, access: 'read_write' },
      { tensor: k.outputs[1].name, access: 'read_write' },
      { tensor: k.outputs[2].name, access: 'read_write' },
    ],
    workgroups: grid1d(nb, 1, cfg.maxWorkgroupsPerDim),
  };
}

/**
 * Splits an arena into blocks of at most `blockElems` f32 elements, one range per parameter (ranges are
 * element offsets, multiples of 4), each tagged with the parameter's group.
 */
export function optimizerBlocks(ranges: { start: number; length: number; group: number }[], blockElems = 4096): OptimizerLayout['blocks'] {
  const blocks: OptimizerLayout['blocks'] = [];
  for (const r of ranges) {
    const end = r.start + Math.ceil(r.length / 4) * 4;
    for (let s = r.start; s < end; s += blockElems) blocks.push({ start: s, end: Math.min(end, s + blockElems), group: r.group });
  }
  return blocks;
}
