// `smcirc doctor`: what this machine offers smcirc — Node, the Vulkan driver packages, and the WebGPU adapter Dawn
// finds (probed in a child process, so Dawn's native messages stay out of the output). Exit 1 without an adapter.

import { execFileSync } from 'node:child_process';
import { probeAdapter } from '../../runtime/gpu/probe.js';

function debVersion(pkg: string): string | undefined {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return v || undefined;
  } catch {
    return undefined;
  }
}

export async function runDoctor(write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  write(`${'node'.padEnd(20)}${process.versions.node}\n`);
  for (const pkg of ['mesa-vulkan-drivers', 'libvulkan1']) {
    const v = debVersion(pkg);
    if (v !== undefined || pkg === 'mesa-vulkan-drivers') write(`${pkg.padEnd(20)}${v ?? '(not installed, or not a Debian system)'}\n`);
  }
  const probe = await probeAdapter();
  if (probe.ok) {
    write(`${'adapter'.padEnd(20)}${probe.adapter}${probe.software ? ' (software: correctness, not speed)' : ''}\n`);
    return 0;
  }
  write(`${'adapter'.padEnd(20)}none: ${probe.reason}\n`);
  write(`${' '.repeat(20)}smcirc runs on the CPU reference interpreter (\`--backend auto\` does so by itself); for the GPU path,\n`);
  write(`${' '.repeat(20)}as root run \`bash scripts/setup.sh\` (Mesa lavapipe from bookworm-backports) or install a Vulkan GPU driver\n`);
  return 1;
}
