// Collects a sweep for `smcirc table`: per row (a spec, data and grid point) the seed results of its finished cells
// (each cell's results.json) and the state of the others (failed, running, interrupted, not started).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeedResults } from '../eval/seeds.js';
import { cellState, RESULTS } from './claim.js';
import { dataName, uniqueNames, type Cell } from './grid.js';
import type { SweepManifest } from './manifest.js';

export type Pending = 'failed' | 'running' | 'interrupted' | 'not started';

export interface Row {
  id: string;
  /** Label column → value (the coordinates that vary across the sweep). */
  labels: Record<string, string>;
  results: SeedResults;
  seeds: number;
  pending: { cell: Cell; why: Pending }[];
}

/** The label columns: spec, data and each axis — those that vary (the spec alone when nothing does). */
export function labelColumns(m: SweepManifest): string[] {
  const g = m.grid;
  const cols = [...(g.specs.length > 1 ? ['spec'] : []), ...(g.data.length > 1 ? ['data'] : []), ...g.axes.map((a) => a.key)];
  return cols.length ? cols : ['spec'];
}

export function collect(root: string, m: SweepManifest, staleMs?: number): Row[] {
  const specNames = uniqueNames(m.grid.specs);
  const dataNames = uniqueNames(m.grid.data.filter((d) => d !== 'synthetic'));
  const cols = labelColumns(m);
  const rows = new Map<string, Row>();
  for (const cell of m.cells) {
    let row = rows.get(cell.row);
    if (!row) {
      const all: Record<string, string> = { spec: specNames.get(cell.spec)!, data: dataName(cell.data, dataNames), ...cell.point };
      row = { id: cell.row, labels: Object.fromEntries(cols.map((c) => [c, all[c]!])), results: [], seeds: 0, pending: [] };
      rows.set(cell.row, row);
    }
    row.seeds++;
    const st = cellState(root, cell, staleMs);
    if (st.kind === 'finished') {
      const r = JSON.parse(readFileSync(join(root, cell.id, RESULTS), 'utf8')) as { seeds: SeedResults };
      row.results.push(...r.seeds);
    } else {
      const why: Pending = st.kind === 'held' ? 'running' : st.kind === 'stale' ? 'interrupted' : st.kind === 'ended' ? (st.last.end!.status === 'failed' ? 'failed' : 'interrupted') : 'not started';
      row.pending.push({ cell, why });
    }
  }
  return [...rows.values()];
}
