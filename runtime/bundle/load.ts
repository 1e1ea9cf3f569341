// Opens a bundle and checks its manifest before anything runs: the format and ABI version, the spec files'
// hash, and the content hash of every kernel. A bundle of another version or with a changed file is refused.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_ABI, BUNDLE_FORMAT, planFromManifest, sha256, specHash, type BundleManifest } from '../../compiler/bundle/manifest.js';
import type { DispatchPlan } from '../../compiler/kernels/plan.js';

export class BundleError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
  format(): string {
    return `error ${this.code}: ${this.message}\n  hint: ${this.hint}`;
  }
}

export interface OpenedBundle {
  dir: string;
  manifest: BundleManifest & { glue?: { ts: string; js: string; class: string } };
  /** The spec entry inside the bundle, and the overrides it was compiled with. */
  spec: string;
  overrides: string[];
  plans?: { train: DispatchPlan; forward: DispatchPlan };
}

const RECOMPILE = 'recompile it with `smcirc compile <spec> -o <dir>`';

export function openBundle(dir: string): OpenedBundle {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new BundleError('SMC5030', `${dir} is not a bundle (no manifest.json)`, `pass a folder made by \`smcirc compile\`, or ${RECOMPILE}`);
  let m: OpenedBundle['manifest'];
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new BundleError('SMC5031', `${path} is not valid JSON`, RECOMPILE);
  }
  if (m.format !== BUNDLE_FORMAT) throw new BundleError('SMC5031', `${path} is not an smcirc bundle manifest`, RECOMPILE);
  if (m.abi !== BUNDLE_ABI) throw new BundleError('SMC5032', `the bundle has ABI version ${m.abi}; this smcirc runs version ${BUNDLE_ABI}`, RECOMPILE);
  const read = (rel: string): string => {
    const p = join(dir, rel);
    if (!existsSync(p)) throw new BundleError('SMC5033', `the bundle is missing ${rel}`, RECOMPILE);
    return readFileSync(p, 'utf8');
  };
  const files = new Map(m.spec.files.map((f) => [f, read(f)]));
  if (specHash(files) !== m.spec.sha256) throw new BundleError('SMC5034', `the spec files in ${dir}/spec were changed after compiling`, `restore them, or ${RECOMPILE}`);
  let plans: OpenedBundle['plans'];
  const { train_step, forward } = m.programs;
  if (train_step && forward) {
    for (const k of [...train_step.kernels, ...forward.kernels]) {
      if (sha256(read(k.file)) !== k.sha256) throw new BundleError('SMC5035', `kernel ${k.file} (${k.name}) was changed after compiling: its content hash does not match the manifest`, `restore the file, or ${RECOMPILE}`);
    }
    plans = { train: planFromManifest(train_step, read), forward: planFromManifest(forward, read) };
  }
  return { dir, manifest: m, spec: join(dir, m.spec.entry), overrides: m.spec.overrides, plans };
}

/** For `smcirc train <bundle>`: the spec inside and its overrides. */
export function loadBundleSpec(dir: string): { spec: string; overrides: string[] } {
  const b = openBundle(dir);
  return { spec: b.spec, overrides: b.overrides };
}
