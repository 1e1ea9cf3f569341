// Shared by the sweep tests: tiny-width overrides that make a full-size spec (the ablations import specs/smcir.smcir)
// train in seconds on the reference backend, and readers of a sweep folder's claim records and logs.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** specs/smcir-tiny.smcir's widths, plus a tiny synthetic set; also fine for smcir-tiny itself (same values). */
export const TINY_SETS = [
  ...['T_L=8', 'd_L=16', 'T_V=12', 'd_V=6', 'T_A=10', 'd_A=4', 'hidden1=8', 'hidden2=8', 'num_layers=1', 'transformer_layers=1', 'heads=2', 'out_dim=8', 'head_hidden=8'],
  ...['data.synthetic_train=32', 'data.synthetic_valid=16', 'data.synthetic_test=16', 'train.batch_size=8', 'eval.batch_size=8'],
];

/** TINY_SETS as --set options, leaving out the names in `except`. */
export const tiny = (except: string[] = []): string[] => TINY_SETS.filter((s) => !except.includes(s.split('=')[0]!)).flatMap((s) => ['--set', s]);
export const TINY = tiny();

export const FAST = ['--backend', 'reference', '--max-epochs', '1'];

export interface SweepCell {
  id: string;
}

export const cellsOf = (dir: string): SweepCell[] => JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')).cells;

/** The claim generations of a cell: n → { claim, end }. */
export function claimsOf(dir: string, id: string): { n: number; claim: Record<string, unknown>; end?: Record<string, unknown> }[] {
  const cd = join(dir, `${id}.claim`);
  if (!existsSync(cd)) return [];
  return readdirSync(cd)
    .map((f) => /^(\d+)\.json$/.exec(f)?.[1])
    .filter((x): x is string => !!x)
    .map(Number)
    .sort((a, b) => a - b)
    .map((n) => ({
      n,
      claim: JSON.parse(readFileSync(join(cd, `${n}.json`), 'utf8')),
      end: existsSync(join(cd, `${n}.end.json`)) ? JSON.parse(readFileSync(join(cd, `${n}.end.json`), 'utf8')) : undefined,
    }));
}

/** Event lines of a worker's output (`<time> <pid>/<slot> <what> <cell> …`) with the given verb. */
export const events = (out: string, what: string): string[] =>
  out.split('\n').map((l) => new RegExp(`^\\S+ \\d+/\\d+ ${what}\\s+(\\S+)`).exec(l)?.[1]).filter((x): x is string => !!x);
