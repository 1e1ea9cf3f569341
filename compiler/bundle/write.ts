// Writes a bundle folder: spec sources, generated glue (model.ts + model.js), one .wgsl file per kernel, and
// manifest.json last (so a folder without a manifest is never taken for a finished bundle).

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CompiledModel } from '../compile.js';
import type { DispatchPlan } from '../kernels/plan.js';
import { generateGlue } from './glue.js';
import { specFiles } from '../spec-sources.js';
import { baseManifest, programManifest, type BundleManifest } from './manifest.js';

export const GENERATOR = 'smcirc 0.1.0';

export interface WriteBundleOptions {
  overrides: string[];
  plans?: { train: DispatchPlan; forward: DispatchPlan };
  target?: BundleManifest['target'];
}

export class BundleDirError extends Error {
  readonly code = 'SMC5036';
  readonly hint = 'choose an empty or new folder for -o (an existing bundle is replaced)';
}

export function writeBundle(dir: string, model: CompiledModel, o: WriteBundleOptions): BundleManifest {
  // Only ever replace a bundle: never clear a folder that holds something else.
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, 'manifest.json'))) {
    throw new BundleDirError(`${dir} is not empty and is not a bundle`);
  }
  const { files, entry } = specFiles(model);
  const manifest = baseManifest(model, files, entry, o.overrides, GENERATOR);
  const out = new Map<string, string>(files);
  if (o.plans) {
    const t = programManifest('train', o.plans.train, model.settings.train.batch_size);
    const f = programManifest('forward', o.plans.forward, model.evalBatch);
    manifest.programs = { train_step: t.program, forward: f.program };
    for (const [k, v] of [...t.files, ...f.files]) out.set(k, v);
  }
  if (o.target) manifest.target = o.target;
  const glue = generateGlue(manifest, { generator: GENERATOR, specName: basename(model.specPath) });
  out.set('model.ts', glue.ts);
  out.set('model.js', glue.js);
  rmSync(join(dir, 'manifest.json'), { force: true });
  for (const sub of ['kernels', 'spec']) rmSync(join(dir, sub), { recursive: true, force: true });
  for (const [rel, text] of out) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify({ ...manifest, glue: { ts: 'model.ts', js: 'model.js', class: glue.className } }, null, 1)}\n`);
  return manifest;
}
