// Which backend a command runs on when the machine has no usable Vulkan (simulated with a Vulkan loader that is
// pointed at no driver): `auto` trains on the interpreter and says so in one line, `gpu` refuses before writing
// anything, and under SMCIRC_REQUIRE_GPU=1 a GPU test file fails instead of skipping.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { noStackTrace, ROOT, smcirc } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'smcirc-backend-'));
const NO_VULKAN = { VK_ICD_FILENAMES: join(tmp, 'no-driver.json'), VK_DRIVER_FILES: join(tmp, 'no-driver.json') };

describe('no Vulkan driver', () => {
  test('`train` (backend auto) trains on the reference interpreter and says so in one line', async () => {
    const out = join(tmp, 'auto');
    const r = await smcirc(['train', '--max-steps', '1', '--out', out], { env: NO_VULKAN });
    expect(r.code, r.stderr).toBe(0);
    const notes = r.stderr.split('\n').filter((l) => l.startsWith('note:'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^note: no usable GPU \(the Vulkan loader found no driver.*\); running on the CPU reference interpreter/);
    expect(r.stderr).toContain('bash scripts/setup.sh');
    expect(r.stderr).toContain('(backend: reference');
    expect(r.stderr).not.toMatch(/vkCreateInstance|loader_get_json/); // Dawn's own messages stay out
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).backend).toBe('reference');
  });

  test('`--backend gpu` fails with SMC4001 and the reason, and writes no run folder', async () => {
    const out = join(tmp, 'gpu');
    const r = await smcirc(['train', '--backend', 'gpu', '--max-steps', '1', '--out', out], { env: NO_VULKAN });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SMC4001: no WebGPU adapter found: the Vulkan loader found no driver/);
    expect(noStackTrace(r.stderr)).toBe(true);
    expect(existsSync(out)).toBe(false);
  });

  test('`doctor` names the missing adapter and exits 1', async () => {
    const r = await smcirc(['doctor'], { env: NO_VULKAN });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^adapter\s+none: the Vulkan loader found no driver/m);
  });

  test('under SMCIRC_REQUIRE_GPU=1 a GPU test file fails, naming the missing adapter', async () => {
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/fixtures/vitest-gpu-gate.config.ts'], {
        cwd: ROOT,
        env: { ...process.env, ...NO_VULKAN, SMCIRC_REQUIRE_GPU: '1', FORCE_COLOR: '0' },
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('close', (code) => resolve({ code: code ?? -1, out }));
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('SMCIRC_REQUIRE_GPU=1 but the GPU tests cannot run: no WebGPU adapter');
  });
});
