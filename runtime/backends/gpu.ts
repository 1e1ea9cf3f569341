// The GPU backend: lowers the compiled graphs to fused WGSL kernels and runs them through Dawn.

import type { CompiledModel } from '../../compiler/compile.js';
import { GpuError } from '../gpu/errors.js';
import type { Backend } from './backend.js';
import type { BackendOptions } from './index.js';

export class GpuBackend {
  static async create(_model: CompiledModel, _opts: BackendOptions): Promise<Backend> {
    throw new GpuError('SMC4020', 'the GPU backend is not wired to the train step yet', 'run with --backend reference');
  }
}
