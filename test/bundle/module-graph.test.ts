// The bundle is the program: the modules that run a bundle on the GPU import nothing from compiler/ or grammar/
// (only the interpreter path, a named dynamic import, compiles the bundled spec), and `smcirc compile` loads nothing
// of Dawn. Walks the real import graph of the TypeScript sources (type-only imports are erased and skipped).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** Imports of a module that exist at run time: static ones and dynamic `import('…')`, without `import type`. */
function importsOf(file: string): { spec: string; dynamic: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { spec: string; dynamic: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) if (!m[2]) out.push({ spec: m[3]!, dynamic: false });
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push({ spec: m[1]!, dynamic: false });
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) out.push({ spec: m[1]!, dynamic: true });
  return out;
}

const resolveTs = (from: string, spec: string): string | undefined => {
  if (!spec.startsWith('.')) return undefined; // a package
  const p = resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
  return existsSync(p) ? p : undefined;
};

/** Every module reachable from `entries`, except through the dynamic imports `allowed` (module → spec). */
function closure(entries: string[], allowedDynamic: Record<string, string[]> = {}): { modules: Set<string>; packages: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const todo = entries.map((e) => join(ROOT, e));
  while (todo.length) {
    const f = todo.pop()!;
    if (modules.has(f)) continue;
    modules.add(f);
    for (const { spec, dynamic } of importsOf(f)) {
      if (dynamic && (allowedDynamic[relative(ROOT, f)] ?? []).includes(spec)) continue;
      const target = resolveTs(f, spec);
      if (target) todo.push(target);
      else if (!spec.startsWith('.')) packages.add(spec.startsWith('node:') ? 'node' : spec);
    }
  }
  return { modules, packages };
}

const rel = (s: Set<string>) => [...s].map((f) => relative(ROOT, f)).sort();

describe('module graph', () => {
  test('running a bundle on the GPU imports nothing from compiler/ or grammar/', () => {
    const { modules, packages } = closure(
      ['runtime/bundle/runtime.ts', 'runtime/bundle/load.ts', 'runtime/backends/gpu.ts', 'runtime/gpu/program.ts', 'runtime/gpu/executor.ts'],
      { 'runtime/bundle/runtime.ts': ['../dev/reference-from-spec.js'] }, // the interpreter path only (backend: 'reference')
    );
    const files = rel(modules);
    expect(files).toContain('runtime/abi/manifest.ts');
    expect(files).toContain('runtime/gpu/device.ts');
    expect(files.filter((f) => f.startsWith('compiler/') || f.startsWith('grammar/'))).toEqual([]);
    expect([...packages].sort()).toEqual(['node', 'webgpu']);
  });

  test('the training loop and run folders need only the model description, not the compiler', () => {
    const { modules } = closure(['runtime/train/run.ts', 'runtime/train/loop.ts', 'runtime/eval/conditions.ts', 'runtime/train/data-source.ts']);
    expect(rel(modules).filter((f) => f.startsWith('compiler/') || f.startsWith('grammar/'))).toEqual([]);
  });

  test('`smcirc compile` loads nothing of Dawn', () => {
    const { modules, packages } = closure(['cli/commands/compile.ts']);
    expect(packages.has('webgpu')).toBe(false);
    expect(rel(modules).filter((f) => f.startsWith('runtime/gpu/'))).toEqual([]);
  });
});
