// Keeps Dawn's known native noise out of the user's output: while Dawn opens an adapter, file descriptor 2 points
// at a temporary file; afterwards the original stderr is restored and every line that is not known noise (today:
// lavapipe's "…artificially reduced…" limit warnings) is written to it. Linux only; SMCIRC_DEBUG=1 shows all.

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Lines Dawn prints for every lavapipe adapter; they say nothing a user can act on. */
const NOISE = [/artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit/];

export function isDawnNoise(line: string): boolean {
  return NOISE.some((re) => re.test(line));
}

/** Why Dawn found no adapter, from its native messages. */
export function dawnReason(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && !l.startsWith('- ') && !isDawnNoise(l));
  if (lines.some((l) => /Couldn't load Vulkan/.test(l))) return 'no Vulkan loader (libvulkan1 is not installed)';
  if (lines.some((l) => /Found no drivers|VK_ERROR_INCOMPATIBLE_DRIVER/.test(l))) return 'the Vulkan loader found no driver (no GPU driver, and no mesa-vulkan-drivers)';
  if (lines.some((l) => /shaderUniform\*ArrayDynamicIndexing|required/.test(l))) {
    return 'the Vulkan driver is too old for Dawn (Mesa lavapipe needs mesa-vulkan-drivers >= 23)';
  }
  return lines.length ? lines[0]!.replace(/^Warning:\s*/, '') : 'Dawn found no Vulkan device';
}

/** Runs `fn` with native writes to fd 2 captured; passes on what is not noise. Falls back to running it plainly. */
export async function filterNativeStderr<T>(fn: () => Promise<T>): Promise<T> {
  const { value, text } = await captureNativeStderr(fn);
  const keep = text.split('\n').filter((l) => l.trim() && !isDawnNoise(l));
  if (keep.length) process.stderr.write(`${keep.join('\n')}\n`);
  return value;
}

/** Runs `fn` with native writes to fd 2 captured and returns them (all of them: the caller decides what to show).
 *  Where capturing is not possible (not Linux, a socket, SMCIRC_DEBUG=1) the writes go through and `text` is empty. */
export async function captureNativeStderr<T>(fn: () => Promise<T>): Promise<{ value: T; text: string }> {
  const plain = async () => ({ value: await fn(), text: '' });
  if (process.platform !== 'linux' || process.env.SMCIRC_DEBUG) return plain();
  let saved: number;
  let dir: string;
  try {
    saved = openSync('/proc/self/fd/2', 'a');
  } catch {
    return plain(); // a socket or another stderr that cannot be reopened: nothing is filtered
  }
  try {
    dir = mkdtempSync(join(tmpdir(), 'smcirc-dawn-'));
  } catch {
    closeSync(saved);
    return plain();
  }
  const captured = join(dir, 'stderr');
  closeSync(2);
  const fd = openSync(captured, 'w'); // the lowest free descriptor: 2
  const restore = () => {
    closeSync(fd);
    const back = openSync(`/proc/self/fd/${saved}`, 'a');
    if (back !== 2) closeSync(back);
    closeSync(saved);
  };
  if (fd !== 2) {
    // another descriptor was free below 2 (not expected): undo without filtering
    closeSync(fd);
    openSync(`/proc/self/fd/${saved}`, 'a');
    closeSync(saved);
    rmSync(dir, { recursive: true, force: true });
    return plain();
  }
  const collect = (): string => {
    restore();
    let text = '';
    try {
      text = readFileSync(captured, 'utf8');
    } catch {
      // nothing captured
    }
    rmSync(dir, { recursive: true, force: true });
    return text;
  };
  let value: T;
  try {
    value = await fn();
  } catch (e) {
    process.stderr.write(collect()); // nothing is lost when fn fails
    throw e;
  }
  return { value, text: collect() };
}
