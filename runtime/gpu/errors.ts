// GPU runtime error catalogue: GpuError with SMC4xxx codes and a hint, printed without stack traces.

export type GpuErrorCode =
  | 'SMC4001' // no WebGPU adapter
  | 'SMC4002' // device request failed
  | 'SMC4003' // adapter limit too small for the plan
  | 'SMC4010' // uncaptured WebGPU error (validation / out of memory / internal), names the kernel
  | 'SMC4011' // pipeline creation failed (WGSL compile error), names the kernel
  | 'SMC4012' // bind group creation failed
  | 'SMC4020' // plan / buffer mismatch (unknown buffer, wrong size)
  | 'SMC4021' // read-back failed
  | 'SMC4030' // validate mode: a kernel disagrees with the reference
  | 'SMC4040'; // device lost

export class GpuError extends Error {
  override readonly name = 'GpuError';
  constructor(
    readonly code: GpuErrorCode,
    message: string,
    readonly hint?: string,
    readonly kernel?: string,
  ) {
    super(message);
  }
  /** One or two lines for the user: code, message, hint. No stack trace. */
  format(): string {
    return `error ${this.code}: ${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}

export const NO_ADAPTER_HINT =
  'install a GPU driver with Vulkan support, or Mesa lavapipe (software Vulkan): ' +
  "`mesa-vulkan-drivers` >= 23 (on Debian bookworm from bookworm-backports) plus `libvulkan1`; " +
  'set XDG_RUNTIME_DIR if it is unset. `--backend reference` runs on the CPU without a GPU.';
