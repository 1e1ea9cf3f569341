// Dawn adapter + device: required limits, features, and fatal-error capture that names the kernel.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { GpuError, NO_ADAPTER_HINT } from './errors.js';
import { captureNativeStderr, dawnReason, isDawnNoise } from './native-stderr.js';

/** The limits the compiler and executor read; requested from the adapter at their adapter values. */
export const NEEDED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxUniformBufferBindingSize',
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
] as const;
export type GpuLimits = Record<(typeof NEEDED_LIMITS)[number], number>;

/** What kernel selection needs to know about the adapter (plain data, so it can be faked in tests). */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Software adapter (lavapipe/SwiftShader): prefer one invocation per row, no workgroup memory. */
  isSoftware: boolean;
  subgroupSize: number;
  limits: GpuLimits;
  features: string[];
}

// Kept at module scope for the life of the process: if dawn.node's GPU object is collected it crashes or hangs.
let gpuInstance: GPU | undefined;

function gpuObject(): GPU {
  if (!gpuInstance) {
    if (!process.env.XDG_RUNTIME_DIR) {
      const dir = join(tmpdir(), `xdg-${process.getuid?.() ?? 'user'}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      process.env.XDG_RUNTIME_DIR = dir;
    }
    Object.assign(globalThis, globals);
    gpuInstance = create([]);
  }
  return gpuInstance;
}

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const limits = {} as GpuLimits;
  for (const k of NEEDED_LIMITS) limits[k] = (adapter.limits as unknown as Record<string, number>)[k];
  const isFallback = Boolean((info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const software =
    isFallback ||
    info.architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader/i.test(`${info.device} ${info.description}`);
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftware: software,
    subgroupSize: (info as unknown as { subgroupMinSize?: number }).subgroupMinSize ?? 0,
    limits,
    features: [...adapter.features].map(String).sort(),
  };
}

export interface OpenGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Do not request timestamp-query even when present. */
  noTimestamps?: boolean;
}

/** An open device plus the bookkeeping that turns asynchronous WebGPU errors into a GpuError naming a kernel. */
export class GpuContext {
  /** Label of the kernel being created or encoded; used when an error does not name one itself. */
  currentKernel: string | undefined;
  /** Pipelines by WGSL hash: Dawn and llvmpipe compile identical WGSL again for every new pipeline object. */
  readonly pipelineCache = new Map<string, Promise<GPUComputePipeline>>();
  private fatal: GpuError | undefined;
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
    readonly hasTimestamps: boolean,
  ) {
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      if (this.fatal) return;
      const kernel = kernelFromMessage(ev.error.message) ?? this.currentKernel;
      this.fatal = new GpuError(
        'SMC4010',
        `WebGPU ${ev.error.constructor?.name ?? 'error'}${kernel ? ` in kernel ${kernel}` : ''}: ${ev.error.message.trim()}`,
        'this is a bug in smcirc or the driver; rerun with --dump-wgsl to inspect the kernel',
        kernel,
      );
    };
    void device.lost.then((info) => {
      if (this.destroyed || this.fatal) return;
      this.fatal = new GpuError('SMC4040', `GPU device lost: ${info.message}`, 'check the driver; lavapipe needs mesa-vulkan-drivers >= 23');
    });
  }

  get limits(): GpuLimits {
    return this.adapter.limits;
  }

  /** Throws the first asynchronous WebGPU error seen so far, if any. */
  checkFatal(): void {
    if (this.fatal) throw this.fatal;
  }

  /** Runs fn inside validation + out-of-memory + internal error scopes; a scoped error becomes a GpuError naming `kernel`. */
  async scoped<T>(kernel: string, what: string, fn: () => T | Promise<T>): Promise<T> {
    const d = this.device;
    d.pushErrorScope('internal');
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    const prev = this.currentKernel;
    this.currentKernel = kernel;
    let result: T;
    let thrown: unknown;
    try {
      result = await fn();
    } catch (e) {
      thrown = e;
    } finally {
      this.currentKernel = prev;
    }
    const errors = [await d.popErrorScope(), await d.popErrorScope(), await d.popErrorScope()].filter(Boolean) as GPUError[];
    if (thrown !== undefined || errors.length) {
      const msg = errors.length ? errors[0].message : thrown instanceof Error ? thrown.message : String(thrown);
      throw new GpuError(what === 'pipeline' ? 'SMC4011' : what === 'bind group' ? 'SMC4012' : 'SMC4010',
        `${what} for kernel ${kernel} failed: ${msg.trim()}`,
        'rerun with --dump-wgsl to inspect the generated WGSL', kernel);
    }
    return result!;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.destroy();
  }
}

function kernelFromMessage(message: string): string | undefined {
  const m = /\[(?:ComputePipeline|ShaderModule|BindGroup|Buffer|ComputePassEncoder)\s+"([^"]+)"\]/.exec(message);
  return m?.[1];
}

/** Opens the default adapter and a device with the adapter's limits. Throws GpuError SMC4001 when there is none. */
export async function openGpu(options: OpenGpuOptions = {}): Promise<GpuContext> {
  let adapter: GPUAdapter | null = null;
  let native = '';
  try {
    ({ value: adapter, text: native } = await captureNativeStderr(() => gpuObject().requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined)));
  } catch (e) {
    throw new GpuError('SMC4001', `no WebGPU adapter: ${(e as Error).message}`, NO_ADAPTER_HINT);
  }
  if (!adapter) throw new GpuError('SMC4001', `no WebGPU adapter found: ${dawnReason(native)}`, NO_ADAPTER_HINT);
  const said = native.split('\n').filter((l) => l.trim() && !isDawnNoise(l));
  if (said.length) process.stderr.write(`${said.join('\n')}\n`);
  const summary = summarizeAdapter(adapter);
  const requiredLimits: Record<string, number> = {};
  for (const k of NEEDED_LIMITS) requiredLimits[k] = summary.limits[k];
  const wantTimestamps = !options.noTimestamps && adapter.features.has('timestamp-query');
  const requiredFeatures: GPUFeatureName[] = wantTimestamps ? ['timestamp-query'] : [];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'smcirc' });
  } catch (e) {
    throw new GpuError('SMC4002', `could not open a device on ${summary.description || summary.device}: ${(e as Error).message}`, NO_ADAPTER_HINT);
  }
  return new GpuContext(device, summary, wantTimestamps);
}

/** Probe for tests: a reason string when no adapter can be opened, undefined when one can. */
export async function gpuUnavailableReason(): Promise<string | undefined> {
  try {
    const { value: adapter, text } = await captureNativeStderr(() => gpuObject().requestAdapter());
    return adapter ? undefined : `no WebGPU adapter: ${dawnReason(text)} (${NO_ADAPTER_HINT})`;
  } catch (e) {
    return `webgpu failed to load: ${(e as Error).message}`;
  }
}
