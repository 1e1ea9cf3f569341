// `smcirc compile`: spec → bundle folder (glue .ts/.js, one .wgsl per kernel, manifest.json).

import { compileModel } from '../../compiler/compile.js';
import { writeBundle } from '../../compiler/bundle/write.js';
import { printDiagnostics } from '../diagnostics-output.js';
import { lowerModelForGpu } from '../../runtime/backends/gpu-plans.js';

export interface CompileCommandOptions {
  out: string;
  set: string[];
  target: 'auto' | 'software';
}

export async function runCompile(spec: string, o: CompileCommandOptions): Promise<number> {
  const model = compileModel(spec, { overrides: o.set });
  printDiagnostics(model.diagnostics, model.sources);
  const lowered = await lowerModelForGpu(model, o.target);
  const m = writeBundle(o.out, model, { overrides: o.set, plans: lowered.plans, target: lowered.target });
  const k = (m.programs.train_step?.kernels.length ?? 0) + (m.programs.forward?.kernels.length ?? 0);
  const d = (m.programs.train_step?.dispatches.length ?? 0);
  process.stdout.write(`${o.out}: ${m.parameters.length} parameters, ${k} kernels, ${d} dispatches per train step (target: ${m.target.adapter})\n`);
  return 0;
}
