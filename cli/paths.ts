// Locations the CLI needs: the package root (for the built-in specs) and default run folders.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'smcirc') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the smcirc package root');
    dir = up;
  }
}

export const defaultSpec = (): string => join(packageRoot(), 'specs', 'smcir-tiny.smcir');

/** runs/<spec name>-<UTC timestamp>[-N], under the working directory; never an existing folder. */
export function defaultRunDir(spec: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const base = join('runs', `${basename(spec).replace(/\.smcir$/, '')}-${stamp}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}
