// `smcirc check`: parse and shape-check a spec; print diagnostics, or a summary of inputs, outputs and parameters.

import { checkSpec, summarizeParams } from '../../compiler/check/index.js';
import { fmtShape } from '../../compiler/ir/graph.js';
import { printDiagnostics } from '../diagnostics-output.js';

export interface CheckCommandOptions {
  set?: string[];
  batch?: number;
}

/** Returns the exit code: 0 clean (warnings allowed), 1 errors. */
export function runCheck(spec: string, opts: CheckCommandOptions, out: (s: string) => void = (s) => process.stdout.write(s)): number {
  const t0 = performance.now();
  const r = checkSpec(spec, { overrides: opts.set, batch: opts.batch, withLoss: true, training: true });
  printDiagnostics(r.diagnostics, r.program.sources);
  if (!r.ok || !r.elaborated) return 1;
  const el = r.elaborated;
  const g = el.graph;
  const fmt = (n: number) => n.toLocaleString('en-US');
  const lines: string[] = [];
  lines.push(`${spec}: ok (${(performance.now() - t0).toFixed(0)} ms)`);
  lines.push('inputs:');
  for (const [name, id] of g.inputs) if (!name.startsWith('__')) lines.push(`  ${name.padEnd(14)} ${fmtShape(g.nodes[id]!.shape)}`);
  lines.push('outputs:');
  for (const [name, id] of el.outputs) lines.push(`  ${name.padEnd(14)} ${fmtShape(g.nodes[id]!.shape)}`);
  const s = summarizeParams(r);
  lines.push('parameters:');
  for (const row of s.rows) {
    const frozen = row.frozen ? ` (+ ${fmt(row.frozen)} frozen)` : '';
    lines.push(`  ${row.instance.padEnd(14)} ${row.block.padEnd(14)} ${fmt(row.trainable).padStart(12)}${frozen}`);
  }
  const head = s.rows.find((r) => r.instance === 'head');
  if (head) lines.push(`  model without head: ${fmt(s.trainable + s.frozen - head.trainable - head.frozen)}; head: ${fmt(head.trainable + head.frozen)}`);
  lines.push(`  total: ${fmt(s.trainable + s.frozen)} (${fmt(s.trainable)} trainable, ${fmt(s.frozen)} frozen)`);
  out(`${lines.join('\n')}\n`);
  return 0;
}
