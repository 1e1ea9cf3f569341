// Planning: a kernel program (tensors + kernel IR in execution order) lowered to WGSL kernels (deduplicated by
// text), physical buffers from the memory plan, and the ordered dispatch list (runtime/abi/plan.ts) the executor runs.
import type { Kernel } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { lowerKernel, type LowerOptions } from './lower.js';
import { planMemory, type PlanTensor } from './memory-plan.js';
import { KernelError } from './errors.js';
import { wgslHash, type DispatchPlan, type PlanBinding, type PlanDispatch, type PlanKernel, type TensorRole } from '../../runtime/abi/plan.js';

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

export interface KernelProgram {
  tensors: ProgramTensor[];
  kernels: Kernel[];
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
  return planLowered(program.tensors, parts.flat(), cfg.storageOffsetAlignment, program.copies, cfg.maxStorageBufferBindingSize, sources);
}
