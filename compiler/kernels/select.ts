// Kernel-variant selection: reads the adapter summary (software vs real GPU, limits) and picks tile sizes and
// reduction strategy. lavapipe wants register tiles without workgroup memory and one invocation per row.

/** The adapter facts selection depends on (runtime/gpu/device.ts AdapterSummary satisfies this). */
export interface AdapterFacts {
  isSoftware: boolean;
  limits: {
    maxStorageBuffersPerShaderStage: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeWorkgroupsPerDimension: number;
    minStorageBufferOffsetAlignment: number;
    /** Bytes one storage binding may span; the WebGPU default (128 MiB) when absent. */
    maxStorageBufferBindingSize?: number;
  };
}

/** WebGPU's default maxStorageBufferBindingSize. */
export const DEFAULT_MAX_STORAGE_BINDING = 134217728;

export interface MatmulTile {
  /** Rows per invocation (4). */
  tm: number;
  /** Columns per invocation (multiple of 4). */
  tn: number;
  wgx: number;
  wgy: number;
}

export interface KernelConfig {
  /** Invocations per workgroup for elementwise kernels. */
  elementwiseWorkgroup: number;
  /** Use vec4 loads/stores in elementwise and reduction kernels where the layout allows. */
  vectorize: boolean;
  /** 'row': one invocation per output row (software adapters); 'workgroup': a workgroup per row with a tree reduction. */
  reduction: 'row' | 'workgroup';
  reductionWorkgroup: number;
  matmul: MatmulTile;
  /** Matmuls with N ≤ this use the narrow tile (4×4). */
  narrowN: number;
  matmulNarrow: MatmulTile;
  /**
   * LSTM recurrences (one workgroup per sample and direction, all steps; an invocation per hidden unit): at most
   * `workgroup` invocations, rounded up from H to a multiple of `granule`. `backward`: how the backward's dh sum
   * reads W_hh: 'rows' (row by row, neighbouring invocations neighbouring columns: coalesced loads across a GPU's
   * SIMD lanes) or 'packed' (the forward's packed copy, one vec4 dot product per unit: a software adapter, which
   * runs a workgroup on one CPU thread and gathers every load).
   */
  lstm: { workgroup: number; granule: number; backward: 'rows' | 'packed' };
  /** Bytes of workgroup memory a kernel may use (maxComputeWorkgroupStorageSize). */
  maxWorkgroupStorage: number;
  /** Storage buffers a kernel may bind. */
  maxStorageBuffers: number;
  maxWorkgroupsPerDim: number;
  /** Byte alignment of storage bindings with an offset (arena sub-allocation). */
  storageOffsetAlignment: number;
  /**
   * Bytes one storage binding may span (the adapter's maxStorageBufferBindingSize): the optimizer splits its
   * arenas into chunks within it; planning rejects any other binding above it.
   */
  maxStorageBufferBindingSize: number;
}

export function selectKernelConfig(adapter: AdapterFacts): KernelConfig {
  const l = adapter.limits;
  const base = {
    maxStorageBuffers: l.maxStorageBuffersPerShaderStage,
    maxWorkgroupsPerDim: l.maxComputeWorkgroupsPerDimension,
    storageOffsetAlignment: Math.max(256, l.minStorageBufferOffsetAlignment),
    maxWorkgroupStorage: l.maxComputeWorkgroupStorageSize,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize ?? DEFAULT_MAX_STORAGE_BINDING,
    vectorize: true,
  };
  if (adapter.isSoftware) {
    // Measured on lavapipe (BENCHMARKS.md): reg 4x8 wg16x4 best, row reductions 12x faster than workgroup ones.
    // Our bench (BENCHMARKS.md) found 4x8 wg16x4 also beats 4x4 wg32 at N = 128, so there is no narrow tile here.
    return {
      ...base,
      elementwiseWorkgroup: 64,
      reduction: 'row',
      reductionWorkgroup: 64,
      matmul: { tm: 4, tn: 8, wgx: 16, wgy: 4 },
      narrowN: 0,
      matmulNarrow: { tm: 4, tn: 4, wgx: 32, wgy: 1 },
      lstm: { workgroup: 64, granule: 8, backward: 'packed' },
    };
  }
  const inv = Math.min(256, l.maxComputeInvocationsPerWorkgroup);
  return {
    ...base,
    elementwiseWorkgroup: inv,
    reduction: 'workgroup',
    reductionWorkgroup: Math.min(128, inv),
    matmul: { tm: 4, tn: 4, wgx: 16, wgy: Math.max(1, Math.floor(inv / 16)) },
    narrowN: 0,
    matmulNarrow: { tm: 4, tn: 4, wgx: 16, wgy: Math.max(1, Math.floor(inv / 16)) },
    lstm: { workgroup: inv, granule: 32, backward: 'rows' },
  };
}

/** The configuration for lavapipe-like adapters with default WebGPU limits (tests, snapshots, offline compiles). */
export const SOFTWARE_DEFAULTS: AdapterFacts = {
  isSoftware: true,
  limits: {
    maxStorageBuffersPerShaderStage: 8,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeWorkgroupsPerDimension: 65535,
    minStorageBufferOffsetAlignment: 256,
    maxStorageBufferBindingSize: DEFAULT_MAX_STORAGE_BINDING,
  },
};
