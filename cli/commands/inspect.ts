// `smcirc inspect --graph`: op counts by kind, the parameter table, and the forward and train-step sizes.

import { compileModel } from '../../compiler/compile.js';
import { formatInspection, inspectGraph } from '../../compiler/inspect.js';

export async function runInspect(spec: string, o: { set: string[] }): Promise<number> {
  const model = compileModel(spec, { overrides: o.set });
  const routing = ['', 'sample routing (each generator runs on the samples its `where` flags; --no-route to compare):'];
  for (const r of model.routes.eval) {
    const span = r.span;
    routing.push(`  where in ${r.scope || 'model'}${span ? ` (${span.file}:${span.line})` : ''}: ${r.region.length} nodes on compacted samples`);
  }
  if (model.routes.eval.length === 0) routing.push('  none');
  for (const s of model.routes.skipped) routing.push(`  ${s}`);
  process.stdout.write(`${formatInspection(inspectGraph(model.forward, model.train))}\n${routing.join('\n')}\n`);
  return 0;
}
