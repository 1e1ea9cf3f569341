// The grid of a sweep — specs × data × `--grid` axes × seeds — expanded into cells, each with a deterministic,
// filesystem-safe run folder `<spec>[/data=<name>][/<k=v,k=v>]/seed-<n>` relative to the sweep folder.

import { createHash } from 'node:crypto';
import { basename, sep } from 'node:path';

export interface Axis {
  key: string;
  values: string[];
}

/** What defines a sweep (sweep.json's `grid`): a rerun into the same folder must give the same. */
export interface SweepGrid {
  /** Absolute paths. */
  specs: string[];
  /** Absolute paths, or `synthetic` (the built-in set). */
  data: string[];
  /** `--set` overrides applied to every cell. */
  set: string[];
  axes: Axis[];
  seeds: number[];
  backend: string;
  max_epochs: number | null;
  max_steps: number | null;
}

export interface Cell {
  /** The run folder relative to the sweep folder, `/`-separated; also the cell's name in logs. */
  id: string;
  spec: string;
  data: string;
  /** One value per axis, in axis order. */
  point: Record<string, string>;
  seed: number;
  /** The row it belongs to in `smcirc table`: the id without the seed. */
  row: string;
}

export class GridError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** `key=v1,v2` → an axis; values split at `|` when there is one (a list-valued setting: `eval.conditions=L,LV|LVA`). */
export function parseAxis(text: string): Axis {
  const eq = text.indexOf('=');
  const key = text.slice(0, eq).trim();
  if (eq <= 0 || !/^[A-Za-z_][\w.]*$/.test(key)) throw new GridError(`--grid ${text}: expected name=v1,v2`, 'e.g. --grid eta=0.4,0.6 or --grid train.lr=1e-3,5e-4');
  const rest = text.slice(eq + 1);
  const values = (rest.includes('|') ? rest.split('|') : rest.split(',')).map((v) => v.trim());
  if (values.some((v) => v === '')) throw new GridError(`--grid ${text}: an empty value`, 'separate values with commas, or with | when a value is itself a list');
  if (new Set(values).size !== values.length) throw new GridError(`--grid ${text}: a value is repeated`);
  return { key, values };
}

/** A path component without anything a shell or a file system minds; altered names get a short hash so they stay distinct. */
export function safeSegment(s: string): string {
  let out = s.replace(/[^A-Za-z0-9._=,+-]/g, '_');
  if (/^[.-]/.test(out)) out = `_${out}`;
  if (out === s && s.length <= 80) return out;
  return `${out.slice(0, 60)}-${createHash('sha256').update(s).digest('hex').slice(0, 8)}`;
}

/** Short unique names for paths: the file name without its extension, with parent folders added where two collide. */
export function uniqueNames(paths: string[]): Map<string, string> {
  const parts = paths.map((p) => p.split(sep).filter(Boolean));
  const out = new Map<string, string>();
  for (let depth = 1; ; depth++) {
    const names = parts.map((ps) => ps.slice(-depth).join('_').replace(/\.(smcir|pkl|pickle)$/, ''));
    if (new Set(names).size === names.length || parts.every((ps) => depth >= ps.length)) {
      paths.forEach((p, i) => out.set(p, safeSegment(names[i]!)));
      return out;
    }
  }
}

export const dataName = (d: string, names: Map<string, string>): string => (d === 'synthetic' ? 'synthetic' : names.get(d) ?? basename(d));

/** Every cell, in row order (specs, then data, then axis values, the first axis slowest), seeds innermost. */
export function expandGrid(g: SweepGrid): Cell[] {
  if (!g.specs.length) throw new GridError('no spec given', 'e.g. smcirc sweep specs/ablations/table5-*.smcir --out runs/table5');
  if (!g.seeds.length) throw new GridError('no seed given');
  for (const [what, xs] of [['spec', g.specs], ['data', g.data], ['seed', g.seeds]] as const) {
    if (new Set<unknown>(xs).size !== xs.length) throw new GridError(`a ${what} is given twice`);
  }
  const keys = g.axes.map((a) => a.key);
  if (new Set(keys).size !== keys.length) throw new GridError('a --grid name is given twice', 'give each axis once, with all its values: --grid eta=0.4,0.6');
  for (const s of g.set) {
    const k = s.slice(0, s.indexOf('=')).trim();
    if (keys.includes(k)) throw new GridError(`${k} is both a --set and a --grid`, `drop --set ${s}, or move its value into --grid ${k}=…`);
  }
  const specNames = uniqueNames(g.specs);
  const dataNames = uniqueNames(g.data.filter((d) => d !== 'synthetic'));
  let points: Record<string, string>[] = [{}];
  for (const a of g.axes) points = points.flatMap((p) => a.values.map((v) => ({ ...p, [a.key]: v })));
  const cells: Cell[] = [];
  for (const spec of g.specs) {
    for (const data of g.data) {
      for (const point of points) {
        const parts = [specNames.get(spec)!];
        if (g.data.length > 1) parts.push(safeSegment(`data=${dataName(data, dataNames)}`));
        if (g.axes.length) parts.push(safeSegment(g.axes.map((a) => `${a.key}=${point[a.key]}`).join(',')));
        const row = parts.join('/');
        for (const seed of g.seeds) cells.push({ id: `${row}/seed-${seed}`, spec, data, point, seed, row });
      }
    }
  }
  return cells;
}

/** The `smcirc train` arguments of a cell that has not started (a started one continues with `--resume`). */
export function trainArgs(g: SweepGrid, c: Cell, dir: string): string[] {
  const args = ['train', c.spec, '--out', dir, '--seed', String(c.seed), '--backend', g.backend];
  if (c.data !== 'synthetic') args.push('--data', c.data);
  for (const s of g.set) args.push('--set', s);
  for (const a of g.axes) args.push('--set', `${a.key}=${c.point[a.key]}`);
  if (g.max_epochs !== null) args.push('--max-epochs', String(g.max_epochs));
  if (g.max_steps !== null) args.push('--max-steps', String(g.max_steps));
  return args;
}
