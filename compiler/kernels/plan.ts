// Planning: a kernel program (tensors + kernel IR in execution order) lowered to WGSL kernels (deduplicated by
// text), physical buffers from the memory plan, and the ordered dispatch list (runtime/abi/plan.ts) the executor runs.
import type { Kernel } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { lowerKernel, type LowerOptions } from './lower.js';
import { grid1d } from './wgsl-common.js';
import { planMemory, type PlanTensor } from './memory-plan.js';
import { KernelError } from './errors.js';
import { ZERO_TAIL_KERNEL, wgslHash, type DispatchPlan, type PlanBinding, type PlanDispatch, type PlanKernel, type TensorRole } from '../../runtime/abi/plan.js';

export { wgslCode, wgslHash, type DispatchPlan, type PlanBinding, type PlanDispatch, type PlanKernel, type TensorRole } from '../../runtime/abi/plan.js';

export interface ProgramTensor {
  name: string;
  /** f32 elements. */
  size: number;
  role: TensorRole;
  /** Lives inside another (pinned) tensor at an element offset: parameters inside the parameter arena. */
  alias?: { of: string; offset: number };
  /** Contents uploaded once at load (constant tensors). */
  init?: Float32Array;
}

/** Sample routing of a program (compiler/passes/route-dispatch.ts): per kernel its route, if it runs on compacted samples. */
export interface KernelRouting {
  /** Per route: the scalar tensor holding the flagged count, the batch, the kernel that computes the count. */
  routes: { count: string; batch: number; countKernel: number }[];
  kernelRoute: (number | undefined)[];
  /** Before kernel `before`, zero the rows past the count of a compacted tensor it sums over. */
  zeroTails: { before: number; tensor: string; route: number }[];
}

export interface KernelProgram {
  tensors: ProgramTensor[];
  kernels: Kernel[];
  routing?: KernelRouting;
  /** Copies after every step (by tensor name); both tensors must be pinned. */
  copies?: { from: string; to: string }[];
}

/** Plans already-lowered kernels (tests and benchmarks that build WGSL kernels directly). */
export function planLowered(
  tensors: ProgramTensor[],
  lowered: LoweredKernel[],
  alignment = 256,
  copies: { from: string; to: string }[] = [],
  maxBindingBytes = Infinity,
  /** Per lowered kernel, the index of the kernel-IR kernel it came from (default: one each, in order). */
  sources: number[] = lowered.map((_, i) => i),
): DispatchPlan {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  lowered.forEach((lk, i) => {
    for (const b of lk.bindings) {
      if (b.data) continue;
      let t = byName.get(b.tensor);
      if (!t) throw new KernelError('SMC4101', `binds tensor ${b.tensor}, which the program does not declare`, lk.name);
      while (t.alias) t = byName.get(t.alias.of)!;
      for (const n of new Set([b.tensor, t.name])) {
        if (!first.has(n)) first.set(n, i);
        last.set(n, i);
      }
    }
  });
  const planTensors: PlanTensor[] = tensors.map((t) => ({
    name: t.name,
    bytes: t.size * 4,
    pinned: t.role !== 'temp',
    alias: t.alias ? { of: t.alias.of, byteOffset: t.alias.offset * 4 } : undefined,
    first: first.get(t.name) ?? -1,
    last: last.get(t.name) ?? -1,
  }));
  const mem = planMemory(planTensors, alignment);
  const kernels: PlanKernel[] = [];
  const byWgsl = new Map<string, number>();
  const constants: (Uint32Array | Float32Array)[] = [];
  const dispatches: PlanDispatch[] = lowered.map((lk, li) => {
    const hash = wgslHash(lk.wgsl);
    let ki = byWgsl.get(hash);
    if (ki === undefined) {
      ki = kernels.length;
      byWgsl.set(hash, ki);
      kernels.push({
        name: lk.name,
        wgsl: lk.wgsl,
        layout: [...lk.bindings.map((b) => b.access), ...(lk.uniform ? (['uniform'] as const) : [])],
        hash,
      });
    }
    const bindings: PlanBinding[] = lk.bindings.map((b) => {
      if (b.data) {
        constants.push(b.data);
        return { constant: constants.length - 1 };
      }
      const p = mem.place.get(b.tensor)!;
      const size = byName.get(b.tensor)!.size;
      const r = b.range ?? { offset: 0, size };
      if (r.offset < 0 || r.size < 0 || r.offset + r.size > size) {
        throw new KernelError('SMC4104', `binds elements [${r.offset}, ${r.offset + r.size}) of ${b.tensor}, which holds ${size}`, lk.name);
      }
      const byteOffset = p.byteOffset + r.offset * 4;
      if (b.range && byteOffset % alignment !== 0) {
        throw new KernelError('SMC4104', `binds ${b.tensor} from byte ${byteOffset} of its buffer, not a multiple of ${alignment}`, lk.name);
      }
      if (r.size * 4 > maxBindingBytes) {
        throw new KernelError(
          'SMC4102',
          `binds ${b.range ? `elements [${r.offset}, ${r.offset + r.size}) of ` : ''}tensor ${b.tensor} (${r.size * 4} bytes), above the adapter's maxStorageBufferBindingSize of ${maxBindingBytes} bytes`,
          lk.name,
          'the model is too large for this adapter: reduce the layer sizes (hidden width, vocabulary) or the batch size',
        );
      }
      return { buffer: p.buffer, byteOffset, byteSize: r.size * 4 };
    });
    return { label: lk.name, kernel: ki, source: sources[li]!, bindings, uniform: lk.uniform, workgroups: lk.workgroups };
  });
  const tensorsOut = new Map<string, { buffer: number; byteOffset: number; size: number; role: TensorRole }>();
  for (const t of tensors) {
    const p = mem.place.get(t.name);
    if (p) tensorsOut.set(t.name, { ...p, size: t.size, role: t.role });
  }
  return {
    kernels,
    buffers: mem.buffers.map((b) => ({ label: b.tensors.slice(0, 3).join(',') + (b.tensors.length > 3 ? ',…' : ''), bytes: b.bytes })),
    constants,
    tensors: tensorsOut,
    dispatches,
    inits: tensors.filter((t) => t.init).map((t) => ({ tensor: t.name, data: t.init! })),
    copies,
  };
}

/** Lowers every kernel of the program for the adapter configuration and plans buffers and dispatches. */
export function buildDispatchPlan(program: KernelProgram, cfg: KernelConfig, opts: LowerOptions = {}): DispatchPlan {
  const parts = program.kernels.map((k) => lowerKernel(k, cfg, opts));
  const sources = parts.flatMap((p, i) => p.map(() => i));
  const plan = planLowered(program.tensors, parts.flat(), cfg.storageOffsetAlignment, program.copies, cfg.maxStorageBufferBindingSize, sources);
  return program.routing ? routeDispatches(plan, parts, program.routing, cfg.storageOffsetAlignment) : plan;
}

/**
 * Routes the routed kernels' dispatches: each keeps its grid, and its uniform moves into the routing buffer, where
 * its route's args kernel — inserted after the dispatch that computes the count — lowers the extent the kernel stops
 * at to the flagged samples. Zero-tail dispatches go before the kernels that sum over compacted tensors. A kernel
 * lowered in several chunks, or without a batch extent, keeps its full extent (it computes rows nobody reads).
 * (Not indirect dispatch: Dawn validates every indirect dispatch with an extra pass, which costs more than it saves.)
 */
function routeDispatches(plan: DispatchPlan, parts: LoweredKernel[][], routing: KernelRouting, alignment: number): DispatchPlan {
  const flat = parts.flat();
  let bytes = 0;
  const place = (words: number): number => {
    const at = bytes;
    bytes += Math.ceil((words * 4) / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    return at;
  };
  plan.dispatches.forEach((d, j) => {
    const r = routing.kernelRoute[d.source];
    const b = flat[j]!.bound;
    if (r === undefined || !b || !d.uniform || parts[d.source]!.length !== 1 || b.items % routing.routes[r]!.batch !== 0) return;
    d.routed = { route: r, at: place(d.uniform.length), bound: b };
  });
  const counts = place(routing.routes.length);
  // zero-tails, before the first dispatch of the kernel that sums over the tensor
  const before = new Map<number, PlanDispatch[]>();
  for (const z of routing.zeroTails) {
    const t = plan.tensors.get(z.tensor);
    if (!t) continue;
    const batch = routing.routes[z.route]!.batch;
    const base = Math.floor(t.byteOffset / alignment) * alignment;
    const offset = (t.byteOffset - base) / 4;
    before.set(z.before, [...(before.get(z.before) ?? []), {
      label: `route${z.route}.zero_tail ${z.tensor}`, kernel: plan.kernels.length, source: z.before,
      bindings: [{ routing: 0 }, { buffer: t.buffer, byteOffset: base, byteSize: (offset + t.size) * 4 }],
      uniform: Uint32Array.of(t.size / batch, batch, counts / 4 + z.route, offset),
      workgroups: grid1d(t.size, ZERO_WG),
    }]);
  }
  if (before.size) plan.kernels.push({ name: ZERO_TAIL_KERNEL, wgsl: ZERO_TAIL_WGSL, layout: ['read', 'read_write', 'uniform'], hash: wgslHash(ZERO_TAIL_WGSL) });
  const routes: { count: string; batch: number; after: number }[] = [];
  const argsAfter = new Map<number, PlanDispatch>();
  routing.routes.forEach((r, ri) => {
    let after = -1;
    plan.dispatches.forEach((d, j) => { if (d.source === r.countKernel) after = j; });
    const t = plan.tensors.get(r.count)!;
    const base = Math.floor(t.byteOffset / alignment) * alignment;
    const element = (t.byteOffset - base) / 4;
    const mine = plan.dispatches.filter((d) => d.routed?.route === ri).map((d) => ({ word: d.routed!.at / 4 + d.routed!.bound.word, perSample: d.routed!.bound.items / r.batch }));
    const wgsl = argsKernelWgsl(r.batch, element, counts / 4 + ri, mine);
    plan.kernels.push({ name: `route${ri}.args`, wgsl, layout: ['read', 'read_write'], hash: wgslHash(wgsl) });
    argsAfter.set(after, {
      label: `route${ri}.args`, kernel: plan.kernels.length - 1, source: r.countKernel,
      bindings: [{ buffer: t.buffer, byteOffset: base, byteSize: (element + 1) * 4 }, { routing: 0 }],
      workgroups: [1, 1, 1],
    });
    routes.push({ count: r.count, batch: r.batch, after });
  });
  const firstOf = new Map<number, number>();
  plan.dispatches.forEach((d, j) => { if (!firstOf.has(d.source)) firstOf.set(d.source, j); });
  const zeroAt = new Map<number, PlanDispatch[]>();
  for (const [k, ds] of before) {
    const j = firstOf.get(k);
    if (j !== undefined) zeroAt.set(j, ds);
  }
  plan.dispatches = plan.dispatches.flatMap((d, j) => [...(zeroAt.get(j) ?? []), d, ...(argsAfter.has(j) ? [argsAfter.get(j)!] : [])]);
  plan.routing = { routes, bytes, counts };
  return plan;
}

/** minUniformBufferOffsetAlignment (the WebGPU default): routed uniforms start at multiples of it. */
const UNIFORM_ALIGN = 256;
const ZERO_WG = 64;

/** Zeroes the rows of a compacted tensor past its route's count (read from the routing buffer); one pipeline for all. */
const ZERO_TAIL_WGSL = [
  '// route zero-tail: rows past the flagged count of a compacted tensor, before a kernel sums over its samples',
  'struct ZeroTail { rowSize: u32, batch: u32, countWord: u32, offset: u32 }',
  '@group(0) @binding(0) var<storage, read> routing: array<u32>;',
  '@group(0) @binding(1) var<storage, read_write> t: array<f32>;',
  '@group(0) @binding(2) var<uniform> u: ZeroTail;',
  `@compute @workgroup_size(${ZERO_WG})`,
  'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
  `  let i = gid.x + gid.y * nwg.x * ${ZERO_WG}u;`,
  '  if (i < routing[u.countWord] * u.rowSize || i >= u.batch * u.rowSize) { return; }',
  '  t[u.offset + i] = 0.0;',
  '}',
  '',
].join('\n');

/** The args kernel of one route: reads the flagged count, writes it and every routed dispatch's lowered extent. */
function argsKernelWgsl(batch: number, element: number, countWord: number, routed: { word: number; perSample: number }[]): string {
  return [
    '// route args: the extent of every routed dispatch from the number of flagged samples',
    '@group(0) @binding(0) var<storage, read> cnt: array<f32>;',
    '@group(0) @binding(1) var<storage, read_write> routing: array<u32>;',
    '@compute @workgroup_size(1)',
    'fn main() {',
    `  let c = min(u32(max(cnt[${element}], 0.0)), ${batch}u);`,
    `  routing[${countWord}u] = c;`,
    ...routed.map((r) => `  routing[${r.word}u] = ${r.perSample}u * c;`),
    '}',
    '',
  ].join('\n');
}
