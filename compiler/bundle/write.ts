// Writes a bundle folder: spec sources, generated glue (model.ts + model.js), one .wgsl file per kernel, and
// manifest.json last (so a folder without a manifest is never taken for a finished bundle), with its own hash.

import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelAbi } from '../../runtime/abi/model.js';
import { specName } from '../../runtime/abi/model.js';
import { MANIFEST_FILE, manifestDigest, modelToManifest, type BundleManifest } from '../../runtime/abi/manifest.js';
import { generateGlue } from './glue.js';
import { SMCIRC_VERSION } from '../../runtime/abi/version.js';
import { makeDirs } from '../../runtime/fs.js';

export const GENERATOR = `smcirc ${SMCIRC_VERSION}`;

export class BundleDirError extends Error {
  readonly code = 'SMC5036';
  readonly hint = 'choose an empty or new folder for -o (an existing bundle is replaced)';
}

export function writeBundle(dir: string, model: ModelAbi): BundleManifest {
  // Only ever replace a bundle: never clear a folder that holds something else.
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, MANIFEST_FILE))) {
    throw new BundleDirError(`${dir} is not empty and is not a bundle`);
  }
  const { manifest, files } = modelToManifest(model, GENERATOR);
  const glue = generateGlue(manifest, { generator: GENERATOR, specName: specName(model) });
  files.set('model.ts', glue.ts);
  files.set('model.js', glue.js);
  manifest.glue = { ts: 'model.ts', js: 'model.js', class: glue.className };
  manifest.manifest_sha256 = manifestDigest(manifest);
  rmSync(join(dir, MANIFEST_FILE), { force: true });
  for (const sub of ['kernels', 'spec']) rmSync(join(dir, sub), { recursive: true, force: true });
  for (const [rel, text] of files) {
    makeDirs(dirname(join(dir, rel)));
    writeFileSync(join(dir, rel), text);
  }
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}
