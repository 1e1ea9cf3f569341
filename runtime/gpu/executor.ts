// Executor: runs a DispatchPlan on a GpuContext. Buffers and pipelines are created once at load (pipelines
// asynchronously), bind groups are cached, a step is one command buffer and one submit, and only the tensors
// asked for are read back. Debug: WGSL dump, per-kernel timings (timestamp queries when the adapter has them).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DispatchPlan } from '../abi/plan.js';
import type { GpuContext } from './device.js';
import { GpuError } from './errors.js';
import { makeDirs } from '../fs.js';

export interface ExecutorOptions {
  /** Write every kernel's WGSL to this folder (NNN-name.wgsl) at load. */
  dumpWgslDir?: string;
}

export interface KernelTiming {
  label: string;
  /** Milliseconds; from timestamp queries, or wall time per submitted dispatch without them. */
  ms: number;
  source: 'timestamp' | 'wall';
}

/** Per kernel label, the summed time and dispatch count, slowest first (profile output). */
export function slowestKernels(timings: readonly { label: string; ms: number }[], top = Infinity): { label: string; ms: number; n: number }[] {
  const byLabel = new Map<string, { label: string; ms: number; n: number }>();
  for (const t of timings) {
    const e = byLabel.get(t.label) ?? { label: t.label, ms: 0, n: 0 };
    e.ms += t.ms;
    e.n++;
    byLabel.set(t.label, e);
  }
  return [...byLabel.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
}

const STORAGE_USAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

const fileSafe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);

export class Executor {
  private staging = new Map<number, GPUBuffer>();

  private constructor(
    readonly ctx: GpuContext,
    readonly plan: DispatchPlan,
    private readonly buffers: GPUBuffer[],
    private readonly pipelines: GPUComputePipeline[],
    private readonly bindGroups: GPUBindGroup[],
    private readonly owned: GPUBuffer[],
    /** Routed plans: routed dispatches' uniforms and the routes' counts, written on the device by args kernels. */
    private readonly routing?: GPUBuffer,
  ) {}

  static async load(ctx: GpuContext, plan: DispatchPlan, opts: ExecutorOptions = {}): Promise<Executor> {
    const device = ctx.device;
    if (opts.dumpWgslDir) {
      makeDirs(opts.dumpWgslDir);
      plan.kernels.forEach((k, i) => writeFileSync(join(opts.dumpWgslDir!, `${String(i).padStart(3, '0')}-${fileSafe(k.name)}.wgsl`), k.wgsl));
    }
    const maxBinding = ctx.limits.maxStorageBufferBindingSize;
    const buffers = await ctx.scoped('buffers', 'buffer allocation', () =>
      plan.buffers.map((b, i) => {
        if (b.bytes > ctx.limits.maxBufferSize) {
          throw new GpuError('SMC4003', `buffer ${i} (${b.label}) needs ${b.bytes} bytes, the adapter allows ${ctx.limits.maxBufferSize}`);
        }
        return device.createBuffer({ size: b.bytes, usage: STORAGE_USAGE(), label: b.label });
      }),
    );
    const owned: GPUBuffer[] = [];
    const constants = plan.constants.map((data, i) => {
      const buf = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true, label: `const${i}` });
      new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      buf.unmap();
      owned.push(buf);
      return buf;
    });
    // pipelines, concurrently; a WGSL error names its kernel
    const pipelines = await Promise.all(
      plan.kernels.map((k) => {
        const cached = ctx.pipelineCache.get(k.hash);
        if (cached) return cached;
        const created = ctx.scoped(k.name, 'pipeline', async () => {
          const module = device.createShaderModule({ code: k.wgsl, label: k.name });
          const info = await module.getCompilationInfo();
          const errs = info.messages.filter((m) => m.type === 'error');
          if (errs.length) {
            throw new GpuError('SMC4011', `WGSL for kernel ${k.name} does not compile: ${errs.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`,
              'rerun with --dump-wgsl to inspect the generated WGSL', k.name);
          }
          const layout = device.createBindGroupLayout({
            label: k.name,
            entries: k.layout.map((a, binding) => ({
              binding,
              visibility: GPUShaderStage.COMPUTE,
              buffer: { type: a === 'uniform' ? 'uniform' : a === 'read' ? 'read-only-storage' : 'storage' },
            })),
          });
          return device.createComputePipelineAsync({
            label: k.name,
            layout: device.createPipelineLayout({ bindGroupLayouts: [layout], label: k.name }),
            compute: { module, entryPoint: 'main' },
          });
        });
        ctx.pipelineCache.set(k.hash, created);
        return created;
      }),
    );
    const routing = plan.routing
      ? device.createBuffer({ size: Math.max(16, plan.routing.bytes), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC, label: 'routing' })
      : undefined;
    if (routing) {
      owned.push(routing);
      for (const d of plan.dispatches) if (d.routed && d.uniform) device.queue.writeBuffer(routing, d.routed.at, d.uniform.buffer as ArrayBuffer, d.uniform.byteOffset, d.uniform.byteLength);
    }
    // one error scope for all bind groups (Dawn's message names the failing one by its label)
    const bindGroups = await ctx.scoped('bind groups', 'bind group', () =>
      plan.dispatches.map((d) => {
        ctx.currentKernel = d.label;
        const entries: GPUBindGroupEntry[] = d.bindings.map((b, binding) => {
          if ('constant' in b) return { binding, resource: { buffer: constants[b.constant]! } };
          if ('routing' in b) {
            if (!routing) throw new GpuError('SMC4020', `kernel ${d.label} binds the routing buffer, but the plan has no routing`);
            return { binding, resource: { buffer: routing } };
          }
          if (b.byteSize > maxBinding) throw new GpuError('SMC4003', `kernel ${d.label} binds ${b.byteSize} bytes, the adapter allows ${maxBinding} per binding`);
          return { binding, resource: { buffer: buffers[b.buffer]!, offset: b.byteOffset, size: Math.max(4, b.byteSize) } };
        });
        if (d.uniform && d.routed && routing) {
          entries.push({ binding: d.bindings.length, resource: { buffer: routing, offset: d.routed.at, size: Math.max(16, Math.ceil(d.uniform.byteLength / 16) * 16) } });
        } else if (d.uniform) {
          const ub = device.createBuffer({ size: Math.max(16, Math.ceil(d.uniform.byteLength / 16) * 16), usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true, label: `${d.label}.shape` });
          new Uint32Array(ub.getMappedRange()).set(d.uniform);
          ub.unmap();
          owned.push(ub);
          entries.push({ binding: d.bindings.length, resource: { buffer: ub } });
        }
        return device.createBindGroup({ layout: pipelines[d.kernel]!.getBindGroupLayout(0), entries, label: d.label });
      }),
    );
    const ex = new Executor(ctx, plan, buffers, pipelines, bindGroups, owned, routing);
    for (const i of plan.inits ?? []) ex.write(i.tensor, i.data);
    ctx.checkFatal();
    return ex;
  }

  private tensor(name: string): { buffer: number; byteOffset: number; size: number } {
    const t = this.plan.tensors.get(name);
    if (!t) throw new GpuError('SMC4020', `the plan has no tensor named ${name}`);
    return t;
  }

  /** Uploads a tensor's contents (queued; ordered before the next step's submit). */
  write(name: string, data: Float32Array): void {
    const t = this.tensor(name);
    if (data.length !== t.size) throw new GpuError('SMC4020', `tensor ${name} holds ${t.size} values, got ${data.length}`);
    this.ctx.device.queue.writeBuffer(this.buffers[t.buffer]!, t.byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  private encodeDispatches(pass: GPUComputePassEncoder, from = 0, to = this.plan.dispatches.length): void {
    for (let i = from; i < to; i++) {
      const d = this.plan.dispatches[i]!;
      pass.setPipeline(this.pipelines[d.kernel]!);
      pass.setBindGroup(0, this.bindGroups[i]!);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
  }

  /** Runs every dispatch in one command buffer and one submit; reads back the named tensors. */
  async step(read: string[] = []): Promise<Map<string, Float32Array>> {
    const device = this.ctx.device;
    const enc = device.createCommandEncoder({ label: 'step' });
    const pass = enc.beginComputePass({ label: 'step' });
    this.encodeDispatches(pass);
    pass.end();
    for (const c of this.plan.copies ?? []) {
      const [f, t] = [this.tensor(c.from), this.tensor(c.to)];
      enc.copyBufferToBuffer(this.buffers[f.buffer]!, f.byteOffset, this.buffers[t.buffer]!, t.byteOffset, f.size * 4);
    }
    const copies = this.encodeReads(enc, read);
    device.queue.submit([enc.finish()]);
    return this.finishReads(copies);
  }

  /** Runs dispatches [from, to) only (no state copies) and reads back the named tensors: validate mode. */
  async runRange(from: number, to: number, read: string[] = []): Promise<Map<string, Float32Array>> {
    const enc = this.ctx.device.createCommandEncoder({ label: 'range' });
    const pass = enc.beginComputePass({ label: 'range' });
    this.encodeDispatches(pass, from, to);
    pass.end();
    const copies = this.encodeReads(enc, read);
    this.ctx.device.queue.submit([enc.finish()]);
    return this.finishReads(copies);
  }

  /** Reads tensors back (one submit with the copies). */
  async read(names: string[]): Promise<Map<string, Float32Array>> {
    const enc = this.ctx.device.createCommandEncoder({ label: 'read' });
    const copies = this.encodeReads(enc, names);
    this.ctx.device.queue.submit([enc.finish()]);
    return this.finishReads(copies);
  }

  private encodeReads(enc: GPUCommandEncoder, names: string[]): { name: string; staging: GPUBuffer; bytes: number }[] {
    return names.map((name, i) => {
      const t = this.tensor(name);
      const bytes = t.size * 4;
      // one staging buffer per read slot, reused across steps while large enough
      let st = this.staging.get(i);
      if (!st || st.size < bytes) {
        st?.destroy();
        st = this.ctx.device.createBuffer({ size: Math.ceil(bytes / 16) * 16 || 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: `read${i}` });
        this.staging.set(i, st);
      }
      enc.copyBufferToBuffer(this.buffers[t.buffer]!, t.byteOffset, st, 0, bytes);
      return { name, staging: st, bytes };
    });
  }

  private async finishReads(copies: { name: string; staging: GPUBuffer; bytes: number }[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (copies.length === 0) await this.ctx.device.queue.onSubmittedWorkDone();
    for (const c of copies) {
      try {
        await c.staging.mapAsync(GPUMapMode.READ, 0, c.bytes);
      } catch (e) {
        this.ctx.checkFatal();
        throw new GpuError('SMC4021', `reading ${c.name} back failed: ${(e as Error).message}`);
      }
      out.set(c.name, new Float32Array(c.staging.getMappedRange(0, c.bytes).slice(0)));
      c.staging.unmap();
    }
    this.ctx.checkFatal();
    return out;
  }

  /**
   * Per-kernel timings of one step: each dispatch in its own pass with timestamp writes when the adapter has
   * timestamp-query, otherwise one submit + wait per dispatch (includes ~80 µs of submit overhead).
   */
  async profile(): Promise<KernelTiming[]> {
    const device = this.ctx.device;
    const n = this.plan.dispatches.length;
    if (this.ctx.hasTimestamps) {
      const qs = device.createQuerySet({ type: 'timestamp', count: 2 * n });
      const resolve = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const readb = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = device.createCommandEncoder();
      for (let i = 0; i < n; i++) {
        const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        this.encodeDispatches(pass, i, i + 1);
        pass.end();
      }
      enc.resolveQuerySet(qs, 0, 2 * n, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, readb, 0, 16 * n);
      device.queue.submit([enc.finish()]);
      await readb.mapAsync(GPUMapMode.READ);
      const ts = new BigInt64Array(readb.getMappedRange().slice(0));
      readb.unmap();
      qs.destroy();
      resolve.destroy();
      readb.destroy();
      this.ctx.checkFatal();
      return this.plan.dispatches.map((d, i) => ({ label: d.label, ms: Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6, source: 'timestamp' as const }));
    }
    const out: KernelTiming[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      this.encodeDispatches(pass, i, i + 1);
      pass.end();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      out.push({ label: this.plan.dispatches[i]!.label, ms: performance.now() - t0, source: 'wall' });
    }
    this.ctx.checkFatal();
    return out;
  }

  /** The extent each routed dispatch stopped at in the last step (by dispatch index); empty without routing. */
  async routedBounds(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (!this.routing) return out;
    const bytes = this.routing.size;
    const st = this.ctx.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'routing read' });
    const enc = this.ctx.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.routing, 0, st, 0, bytes);
    this.ctx.device.queue.submit([enc.finish()]);
    await st.mapAsync(GPUMapMode.READ);
    const words = new Uint32Array(st.getMappedRange().slice(0));
    st.unmap();
    st.destroy();
    this.plan.dispatches.forEach((d, i) => {
      if (d.routed) out.set(i, words[d.routed.at / 4 + d.routed.bound.word]!);
    });
    return out;
  }

  destroy(): void {
    for (const b of [...this.buffers, ...this.owned, ...this.staging.values()]) b.destroy();
    this.staging.clear();
  }
}
