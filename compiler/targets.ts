// What a compile targets: an adapter's limits and kind (software or a real GPU), from which kernel selection
// (compiler/kernels/select.ts) picks tile sizes and reduction strategies. Compiling needs no device: the target is
// the WebGPU defaults, a lavapipe-like software adapter, a limits file, or the adapter at hand.

import { existsSync, readFileSync, statSync } from 'node:fs';
import type { TargetAbi } from '../runtime/abi/model.js';
import { DEFAULT_MAX_STORAGE_BINDING, type AdapterFacts } from './kernels/select.js';

/** The WebGPU specification's default limits: what every conforming adapter offers. */
export const WEBGPU_DEFAULT_LIMITS: Record<string, number> = {
  maxStorageBuffersPerShaderStage: 8,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBufferBindingSize: DEFAULT_MAX_STORAGE_BINDING,
  maxBufferSize: 268435456,
  maxUniformBufferBindingSize: 65536,
  minStorageBufferOffsetAlignment: 256,
  minUniformBufferOffsetAlignment: 256,
};

export const DEFAULT_TARGET: TargetAbi = { adapter: 'default (WebGPU default limits)', software: false, limits: { ...WEBGPU_DEFAULT_LIMITS }, features: [] };

/** lavapipe-like: the default limits but 16 storage buffers per stage, software kernel choices. */
export const SOFTWARE_TARGET: TargetAbi = {
  adapter: 'software (lavapipe defaults)',
  software: true,
  limits: { ...WEBGPU_DEFAULT_LIMITS, maxStorageBuffersPerShaderStage: 16 },
  features: [],
};

export class TargetError extends Error {
  readonly code = 'SMC4003';
  constructor(message: string, readonly hint: string) {
    super(message);
  }
}

/** `default`, `software`, or a JSON file `{ "adapter"?: string, "software"?: boolean, "limits": { … } }`; limits not
 *  given keep their WebGPU defaults. */
export function resolveTarget(spec: string): TargetAbi {
  if (spec === 'default') return DEFAULT_TARGET;
  if (spec === 'software') return SOFTWARE_TARGET;
  const hint = 'pass --target default, --target software, or a JSON file such as {"software": false, "limits": {"maxStorageBuffersPerShaderStage": 10}}';
  if (!existsSync(spec)) throw new TargetError(`--target ${spec}: no such target or file`, hint);
  const st = statSync(spec);
  if (!st.isFile() || st.size > 1 << 20) throw new TargetError(`--target ${spec}: not a regular file of at most 1 MiB`, hint);
  let j: { adapter?: unknown; software?: unknown; limits?: unknown };
  try {
    j = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (e) {
    throw new TargetError(`${spec} is not valid JSON (${(e as Error).message})`, hint);
  }
  const limits: Record<string, number> = { ...WEBGPU_DEFAULT_LIMITS };
  for (const [k, v] of Object.entries((j.limits ?? {}) as Record<string, unknown>)) {
    if (!(k in WEBGPU_DEFAULT_LIMITS)) throw new TargetError(`${spec}: unknown limit \`${k}\``, `known limits: ${Object.keys(WEBGPU_DEFAULT_LIMITS).join(', ')}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new TargetError(`${spec}: limit \`${k}\` must be a positive whole number`, hint);
    limits[k] = v;
  }
  return { adapter: typeof j.adapter === 'string' ? j.adapter : `limits from ${spec}`, software: j.software === true, limits, features: [] };
}

/** What kernel selection reads of a target. */
export function targetFacts(t: TargetAbi): AdapterFacts {
  const l = { ...WEBGPU_DEFAULT_LIMITS, ...t.limits };
  return {
    isSoftware: t.software,
    limits: {
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage!,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup!,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize!,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension!,
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment!,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize!,
    },
  };
}
