// Kernel IR error catalogue: KernelError (SMC41xx) for malformed kernels and limit violations.

export type KernelErrorCode =
  | 'SMC4101' // malformed kernel IR (bad input index, shape, map)
  | 'SMC4102' // kernel needs more storage buffers than the adapter allows
  | 'SMC4103' // unsupported construct for this kernel kind
  | 'SMC4104'; // memory plan inconsistency

export class KernelError extends Error {
  override readonly name = 'KernelError';
  constructor(
    readonly code: KernelErrorCode,
    message: string,
    readonly kernel?: string,
    readonly hint?: string,
  ) {
    super(kernel ? `kernel ${kernel}: ${message}` : message);
  }
  format(): string {
    return `error ${this.code}: ${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}
