// Kernel IR → lowered WGSL kernels: validates, then dispatches on the kernel kind to its generator.
import type { Kernel } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { validateKernel } from './validate.js';
import { generateExprKernel } from './wgsl-expr.js';
import { generateMatmulKernel } from './wgsl-matmul.js';
import { generateLstmBackward, generateLstmForward } from './wgsl-lstm.js';
import { generateCountMi, generateHistEntropy, generateJointMi } from './wgsl-histogram.js';
import { generateAdam, generateAdamStep, generateGradNorm } from './wgsl-optimizer.js';

export interface LowerOptions {
  /** Matmuls as one invocation per output with scalar loads (benchmark baseline). */
  naiveMatmul?: boolean;
}

/** One IR kernel becomes one lowered kernel (the optimizer's over arenas above the binding limit: one per chunk). */
export function lowerKernel(k: Kernel, cfg: KernelConfig, opts: LowerOptions = {}): LoweredKernel[] {
  validateKernel(k, cfg.maxStorageBuffers);
  switch (k.kind) {
    case 'expr': return [generateExprKernel(k, cfg)];
    case 'matmul': return [generateMatmulKernel(k, cfg, { naive: opts.naiveMatmul })];
    case 'lstm-forward': return [generateLstmForward(k, cfg)];
    case 'lstm-backward': return [generateLstmBackward(k, cfg)];
    case 'hist-entropy': return [generateHistEntropy(k, cfg)];
    case 'count-mi': return [generateCountMi(k, cfg)];
    case 'joint-mi': return [generateJointMi(k, cfg)];
    // the optimizer's arenas may exceed one storage binding: then one kernel per chunk of the arena
    case 'grad-norm': return generateGradNorm(k, cfg);
    case 'adam-step': return [generateAdamStep(k, cfg)];
    case 'adam': return generateAdam(k, cfg);
  }
}
