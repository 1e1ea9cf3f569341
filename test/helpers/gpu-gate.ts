// Whether the GPU tests can run: a reason to skip when Dawn finds no adapter — or, under SMCIRC_REQUIRE_GPU=1
// (set by CI), a failure, so that a green run always means the GPU path was exercised.

import { gpuUnavailableReason } from '../../runtime/gpu/device.js';

export const GPU_REQUIRED = process.env.SMCIRC_REQUIRE_GPU === '1';

/** undefined when the GPU tests can run; otherwise the reason they skip (printed). Throws when the GPU is required. */
export async function gpuSkipReason(what: string): Promise<string | undefined> {
  const reason = await gpuUnavailableReason();
  if (!reason) return undefined;
  if (GPU_REQUIRED) throw new Error(`SMCIRC_REQUIRE_GPU=1 but the ${what} cannot run: ${reason}`);
  console.warn(`${what} skipped: ${reason} (set SMCIRC_REQUIRE_GPU=1 to make this a failure)`);
  return reason;
}
