// `smcirc report <run> [more runs…] [-o dir]`: one self-contained report.html (tables, inline SVG figures, the
// figure data as JSON) plus each figure as an SVG file; prints the path of report.html.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

export interface ReportCommandOptions {
  out?: string;
}

/** Default folder: `<run>/report` for one run, `runs/report-<UTC time>` for several. */
export function defaultReportDir(runs: string[], now = new Date()): string {
  if (runs.length === 1) return join(runs[0]!, 'report');
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const base = join('runs', `report-${stamp}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

export async function runReport(runs: string[], o: ReportCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  for (const r of runs) {
    if (!existsSync(r)) throw new UsageError(`${r} does not exist`, 'pass run folders made by `smcirc train`');
    if (!statSync(r).isDirectory()) throw new UsageError(`${r} is not a folder`, 'pass run folders made by `smcirc train` (not a checkpoint or a results file)');
  }
  const out = o.out ?? defaultReportDir(runs);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`${out} exists and is not a folder`, 'choose a folder for -o');
  const { writeReport, ReportError } = await import('../../runtime/report/report.js');
  try {
    const r = await writeReport(runs, out);
    write(`${r.html}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ReportError) {
      process.stderr.write(`error ${e.code}: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
      return 1;
    }
    throw e;
  }
}
