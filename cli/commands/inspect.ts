// `smcirc inspect --graph`: op counts by kind, the parameter table, and the forward and train-step sizes.

import { compileModel } from '../../compiler/compile.js';
import { formatInspection, inspectGraph } from '../../compiler/inspect.js';

export async function runInspect(spec: string, o: { set: string[] }): Promise<number> {
  const model = compileModel(spec, { overrides: o.set });
  process.stdout.write(`${formatInspection(inspectGraph(model.forward, model.train))}\n`);
  return 0;
}
