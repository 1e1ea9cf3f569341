// Golden fixture files: <case>.json (tensor index) + <case>.bin (little-endian float32), in test/fixtures/goldens.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Feeds } from '../../runtime/interpreter/index.js';

export const GOLDEN_DIR = new URL('../fixtures/goldens/', import.meta.url).pathname;

export interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
}

export interface Fixture {
  case: string;
  meta?: unknown;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export function writeFixture(name: string, tensors: [string, number[], Float32Array][], meta?: unknown, dir = GOLDEN_DIR): void {
  const index: TensorEntry[] = [];
  let off = 0;
  for (const [n, shape, data] of tensors) {
    index.push({ name: n, shape, offset: off });
    off += data.length;
  }
  const all = new Float32Array(off);
  tensors.forEach(([, , d], i) => all.set(d, index[i]!.offset));
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ case: name, meta, tensors: index }, null, 1)}\n`);
  writeFileSync(join(dir, `${name}.bin`), Buffer.from(all.buffer));
}

export function hasFixture(name: string, dir = GOLDEN_DIR): boolean {
  return existsSync(join(dir, `${name}.json`));
}

export function readFixture(name: string, dir = GOLDEN_DIR): Fixture {
  const idx = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { case: string; meta?: unknown; tensors: TensorEntry[] };
  const buf = readFileSync(join(dir, `${name}.bin`));
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of idx.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    tensors.set(t.name, { shape: t.shape, data: all.slice(t.offset, t.offset + n) });
  }
  return { case: idx.case, meta: idx.meta, tensors };
}

/** Interpreter feeds from a fixture: `in:<name>` → input, `param:<name>` → parameter. */
export function fixtureFeeds(f: Fixture): Feeds {
  const feeds: Feeds = new Map();
  for (const [k, v] of f.tensors) {
    if (k.startsWith('in:')) feeds.set(k.slice(3), v.data);
    if (k.startsWith('param:')) feeds.set(k.slice(6), v.data);
  }
  return feeds;
}
