// Opens a bundle and checks it before anything runs: the manifest's shape, format and ABI version, its own hash
// (settings, overrides, parameter table, dispatch plans), the spec files' hash, and the content hash of every
// kernel. A bundle of another version or with a changed file is refused; the model it describes is returned.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelAbi } from '../abi/model.js';
import {
  BUNDLE_ABI, BUNDLE_FORMAT, checkManifestShape, MANIFEST_FILE, manifestDigest, manifestToModel, ManifestShapeError, sha256, specHash,
  type BundleManifest,
} from '../abi/manifest.js';

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
  manifest: BundleManifest;
  model: ModelAbi;
  /** The spec entry inside the bundle (to compile it again: the reference backend, validate mode). */
  spec: string;
}

const RECOMPILE = 'recompile it with `smcirc compile <spec> -o <dir>`';
/** Manifests above this size are refused before parsing (a full-size model's manifest is a few MB). */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

export function isBundle(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && existsSync(join(dir, MANIFEST_FILE));
}

export function openBundle(dir: string): OpenedBundle {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) throw new BundleError('SMC5030', `${dir} is not a bundle (no manifest.json)`, `pass a folder made by \`smcirc compile\`, or ${RECOMPILE}`);
  if (!statSync(path).isFile() || statSync(path).size > MAX_MANIFEST_BYTES) throw new BundleError('SMC5031', `${path} is not a regular file of at most ${MAX_MANIFEST_BYTES} bytes`, RECOMPILE);
  let m: BundleManifest;
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    checkManifestShape(parsed);
    m = parsed;
  } catch (e) {
    if (e instanceof ManifestShapeError) throw new BundleError('SMC5031', `${path}: ${e.message}`, RECOMPILE);
    throw new BundleError('SMC5031', `${path} is not valid JSON`, RECOMPILE);
  }
  if (m.format !== BUNDLE_FORMAT) throw new BundleError('SMC5031', `${path} is not an smcirc bundle manifest`, RECOMPILE);
  if (m.abi !== BUNDLE_ABI) throw new BundleError('SMC5032', `the bundle has ABI version ${m.abi}; this smcirc runs version ${BUNDLE_ABI}`, RECOMPILE);
  if (manifestDigest(m) !== m.manifest_sha256) {
    throw new BundleError('SMC5037', `${path} was changed after compiling: its content hash does not match (settings, overrides, parameters or dispatch plans were edited)`, `restore it, or ${RECOMPILE}`);
  }
  const cache = new Map<string, string>();
  const read = (rel: string): string => {
    const hit = cache.get(rel);
    if (hit !== undefined) return hit;
    const p = join(dir, rel);
    if (rel.split(/[\\/]/).includes('..') || !existsSync(p) || !statSync(p).isFile()) throw new BundleError('SMC5033', `the bundle is missing ${rel}`, RECOMPILE);
    const text = readFileSync(p, 'utf8');
    cache.set(rel, text);
    return text;
  };
  const files = new Map(m.spec.files.map((f) => [f, read(f)]));
  if (specHash(files) !== m.spec.sha256) throw new BundleError('SMC5034', `the spec files in ${dir}/spec were changed after compiling`, `restore them, or ${RECOMPILE}`);
  for (const prog of [m.programs.train_step, m.programs.forward]) {
    for (const k of prog?.kernels ?? []) {
      if (sha256(read(k.file)) !== k.sha256) throw new BundleError('SMC5035', `kernel ${k.file} (${k.name}) was changed after compiling: its content hash does not match the manifest`, `restore the file, or ${RECOMPILE}`);
    }
  }
  return { dir, manifest: m, model: manifestToModel(m, read), spec: join(dir, m.spec.entry) };
}
