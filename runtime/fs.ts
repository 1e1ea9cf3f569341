// File-system helpers every writer shares (run folders, bundles, reports, sweeps, converted data).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `mkdir -p` that never loops (Node's recursive mkdir spins on some pseudo file systems, e.g. under /proc) and says
 *  which path is in the way. Throws Node's errors, with their code, syscall and path. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; ) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR', errno: -20, syscall: 'mkdir', path: d });
      break;
    }
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    try {
      fs.mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(m).isDirectory()) throw e;
    }
  }
}
