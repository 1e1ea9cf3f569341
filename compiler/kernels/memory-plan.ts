// Memory plan: assigns logical tensors to physical buffers, reusing temporaries' buffers by liveness (pure).
import { KernelError } from './errors.js';

export interface PlanTensor {
  name: string;
  /** Bytes (multiple of 4). */
  bytes: number;
  /** Pinned tensors (parameters, optimizer state, inputs, outputs) keep a buffer of their own for the whole run. */
  pinned: boolean;
  /** A view into another tensor's buffer at a byte offset (arena sub-allocation); never allocated itself. */
  alias?: { of: string; byteOffset: number };
  /** Dispatch indices of the first and last use (inclusive); unused tensors are [-1, -1]. */
  first: number;
  last: number;
}

export interface PhysicalBuffer {
  bytes: number;
  /** Tensors that live in it (for labels and debugging). */
  tensors: string[];
}

export interface MemoryPlan {
  buffers: PhysicalBuffer[];
  /** Tensor → (physical buffer index, byte offset). */
  place: Map<string, { buffer: number; byteOffset: number }>;
}

const round16 = (n: number): number => Math.max(16, Math.ceil(n / 16) * 16);

/**
 * Temporaries whose live ranges do not overlap share a buffer (best fit, growing the largest free buffer when
 * none fits). Ranges are inclusive, so a kernel's inputs and outputs never share a buffer.
 */
export function planMemory(tensors: PlanTensor[], alignment = 256): MemoryPlan {
  const buffers: PhysicalBuffer[] = [];
  const place = new Map<string, { buffer: number; byteOffset: number }>();
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const t of tensors) {
    if (t.alias || !t.pinned) continue;
    place.set(t.name, { buffer: buffers.length, byteOffset: 0 });
    buffers.push({ bytes: round16(t.bytes), tensors: [t.name] });
  }
  const temps = tensors.filter((t) => !t.alias && !t.pinned && t.first >= 0).sort((a, b) => a.first - b.first || a.last - b.last);
  const busyUntil: { buffer: number; last: number }[] = [];
  for (const t of temps) {
    const free = busyUntil.filter((s) => s.last < t.first);
    let pick: { buffer: number; last: number } | undefined;
    for (const s of free) {
      const b = buffers[s.buffer]!.bytes;
      if (b >= t.bytes && (!pick || b < buffers[pick.buffer]!.bytes)) pick = s;
    }
    if (!pick) {
      for (const s of free) if (!pick || buffers[s.buffer]!.bytes > buffers[pick.buffer]!.bytes) pick = s;
    }
    if (pick) {
      const buf = buffers[pick.buffer]!;
      buf.bytes = Math.max(buf.bytes, round16(t.bytes));
      buf.tensors.push(t.name);
      pick.last = t.last;
      place.set(t.name, { buffer: pick.buffer, byteOffset: 0 });
    } else {
      busyUntil.push({ buffer: buffers.length, last: t.last });
      place.set(t.name, { buffer: buffers.length, byteOffset: 0 });
      buffers.push({ bytes: round16(t.bytes), tensors: [t.name] });
    }
  }
  for (const t of tensors) {
    if (!t.alias) continue;
    const base = byName.get(t.alias.of);
    const p = place.get(t.alias.of);
    if (!base || !p || base.alias) throw new KernelError('SMC4104', `tensor ${t.name} aliases ${t.alias.of}, which has no buffer of its own`);
    // only a bound alias needs an aligned offset (one read and written by copies only, e.g. a step count, does not)
    if (t.first >= 0 && t.alias.byteOffset % alignment !== 0) {
      throw new KernelError('SMC4104', `tensor ${t.name} sits at byte ${t.alias.byteOffset} of ${t.alias.of}, not a multiple of ${alignment}`);
    }
    if (t.alias.byteOffset + t.bytes > base.bytes) throw new KernelError('SMC4104', `tensor ${t.name} overruns ${t.alias.of}`);
    if (!base.pinned) throw new KernelError('SMC4104', `tensor ${t.name} aliases the temporary ${t.alias.of}`);
    place.set(t.name, { buffer: p.buffer, byteOffset: p.byteOffset + t.alias.byteOffset });
    buffers[p.buffer]!.tensors.push(t.name);
  }
  return { buffers, place };
}
