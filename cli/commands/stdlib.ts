// `smcirc stdlib`: the layers and functions a spec can use, with their parameters and defaults, printed from the
// same table the checker binds arguments with (so it cannot go stale).

import { FUNCTIONS, INITS, LAYERS, type ArgSpec } from '../../compiler/check/builtins.js';
import type { Value } from '../../compiler/check/values.js';

const show = (v: Value): string => (v.t === 'num' ? String(v.v) : v.t === 'bool' ? String(v.v) : v.t === 'str' ? `"${v.v}"` : '…');
const sig = (specs: ArgSpec[]): string => specs.map((a) => (a.default ? `${a.name} = ${show(a.default)}` : a.name)).join(', ');

export function runStdlib(): number {
  const lines: string[] = ['Layers (declare as block members: name = Layer(args); call in forward: name(inputs)):'];
  for (const [name, d] of Object.entries(LAYERS)) lines.push(`  ${name}(${sig(d.ctor)})  →  (${sig(d.call)})`, `      ${d.doc}`);
  lines.push('', 'Functions (call in forward):');
  for (const [name, d] of Object.entries(FUNCTIONS)) lines.push(`  ${name}(${sig(d.params)})`, `      ${d.doc}`);
  lines.push('', 'Initialisers (param w: [shape] init ...):');
  for (const [name, d] of Object.entries(INITS)) lines.push(`  ${name}(${sig(d.params)})`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
