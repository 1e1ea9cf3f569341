// `smcirc compile`: spec → bundle folder (glue .ts/.js, one .wgsl per kernel, manifest.json), for a target given
// as an input — the WebGPU defaults, a software adapter, or a limits file. No adapter is opened, Dawn is not loaded.

import { compileModel } from '../../compiler/compile.js';
import { writeBundle } from '../../compiler/bundle/write.js';
import { lowerModel } from '../../compiler/bundle/model-abi.js';
import { resolveTarget } from '../../compiler/targets.js';
import { printDiagnostics } from '../diagnostics-output.js';

export interface CompileCommandOptions {
  out: string;
  set: string[];
  target: string;
  /** false: `--no-route`. */
  route?: boolean;
}

export async function runCompile(spec: string, o: CompileCommandOptions): Promise<number> {
  const target = resolveTarget(o.target);
  const model = compileModel(spec, { overrides: o.set, route: o.route });
  printDiagnostics(model.diagnostics, model.sources);
  const m = writeBundle(o.out, lowerModel(model, target, o.set));
  const k = (m.programs.train_step?.kernels.length ?? 0) + (m.programs.forward?.kernels.length ?? 0);
  const d = m.programs.train_step?.dispatches.length ?? 0;
  process.stdout.write(`${o.out}: ${m.parameters.length} parameters, ${k} kernels, ${d} dispatches per train step (target: ${target.adapter})\n`);
  return 0;
}
