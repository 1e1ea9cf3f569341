// Asks a child process whether Dawn finds a WebGPU adapter, so that Dawn's native messages (printed straight to
// stderr by the driver loader) never reach the user while `--backend auto` decides; the reason for a refusal
// is taken from those messages.

import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dawnReason } from './native-stderr.js';

export type AdapterProbe = { ok: true; adapter: string; software: boolean } | { ok: false; reason: string };

const CHILD = `
const { create, globals } = await import(process.argv[1]);
Object.assign(globalThis, globals);
const gpu = create([]);
const a = await gpu.requestAdapter();
const i = a?.info;
process.stdout.write(JSON.stringify(a ? { ok: true, adapter: [i.vendor, i.description || i.device, i.architecture].filter(Boolean).join(' / '), software: /llvmpipe|lavapipe|swiftshader/i.test(i.device + ' ' + i.description) || i.architecture === 'software' } : { ok: false }));
process.exit(0);
`;

export function probeAdapter(timeoutMs = 30_000): Promise<AdapterProbe> {
  let webgpu: string;
  try {
    webgpu = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  } catch {
    return Promise.resolve({ ok: false, reason: 'the webgpu package is not installed (run npm ci)' });
  }
  const env = { ...process.env };
  if (!env.XDG_RUNTIME_DIR) {
    env.XDG_RUNTIME_DIR = join(tmpdir(), `xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  }
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD, webgpu], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      try {
        const r = JSON.parse(stdout) as { ok: boolean; adapter?: string; software?: boolean };
        if (r.ok) return resolve({ ok: true, adapter: r.adapter ?? 'unknown adapter', software: !!r.software });
      } catch {
        if (err) return resolve({ ok: false, reason: `the WebGPU probe failed (${err.killed ? 'timed out' : dawnReason(stderr) || err.message})` });
      }
      resolve({ ok: false, reason: dawnReason(stderr) });
    });
  });
}
