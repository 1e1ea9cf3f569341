// Shared by test/weights: fixture paths, a float32 → sha256 digest as the fixture script computes it, and a tiny
// pickle assembler for hand-made (hostile) pickles.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { WeightsError, type Tensor } from '../../runtime/weights/index.js';

export const FIXTURES = join(import.meta.dirname, '../fixtures/bert');
export const fixture = (...p: string[]): string => join(FIXTURES, ...p);

/** sha256 of a tensor's float32 little-endian bytes (scripts/bert_fixture.py's f32_sha). */
export const f32Sha = (t: Tensor): string => createHash('sha256').update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).digest('hex');

/** Assembles a pickle from opcode pieces: strings are latin-1 bytes, numbers single bytes. */
export function pickle(...parts: (string | number | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'number' ? Uint8Array.of(p) : typeof p === 'string' ? Buffer.from(p, 'latin1') : p));
  return Buffer.concat(chunks);
}

/** BINUNICODE of `s`. */
export function uni(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(5 + b.length);
  out[0] = 0x58;
  out.writeUInt32LE(b.length, 1);
  b.copy(out, 5);
  return out;
}

/** The legacy checkpoint's three header pickles (magic number, protocol 1001, sys_info). */
export const LEGACY_HEADER = pickle(
  '\x80\x02\x8a\x0a', Uint8Array.from([0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]), '.',
  '\x80\x02M\xe9\x03.',
  '\x80\x02}.',
);

/** The WeightsError `fn` throws (any other outcome fails the test). */
export function error(fn: () => unknown): WeightsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WeightsError) return e;
    throw e;
  }
  throw new Error('expected a WeightsError');
}
