// Reads tensor references out of their storages as float32: bounds-checked strided views (offset + stride, as
// torch stores transposed or sliced tensors), float16 / bfloat16 / float64 / integer / bool elements converted,
// either byte order, and a cap on the total elements so a hostile size cannot exhaust memory.

import { WeightsError, type Place } from './errors.js';
import { ITEM_SIZE, type StorageRef, type TensorRef, type TorchDtype } from './torch-pickle.js';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface StorageBytes {
  /** The whole root storage: at least numel × item size bytes. */
  bytes: Uint8Array;
  littleEndian: boolean;
}

type Reader = (dv: DataView, byte: number, le: boolean) => number;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const bf16Scratch = new DataView(new ArrayBuffer(4));
const READERS: Record<TorchDtype, Reader> = {
  float32: (dv, b, le) => dv.getFloat32(b, le),
  float16: (dv, b, le) => halfToFloat(dv.getUint16(b, le)),
  bfloat16: (dv, b, le) => {
    bf16Scratch.setUint32(0, dv.getUint16(b, le) << 16);
    return bf16Scratch.getFloat32(0);
  },
  float64: (dv, b, le) => dv.getFloat64(b, le),
  int64: (dv, b, le) => Number(dv.getBigInt64(b, le)),
  int32: (dv, b, le) => dv.getInt32(b, le),
  int16: (dv, b, le) => dv.getInt16(b, le),
  int8: (dv, b) => dv.getInt8(b),
  uint8: (dv, b) => dv.getUint8(b),
  bool: (dv, b) => (dv.getUint8(b) ? 1 : 0),
};

/** Element count of a tensor, or an error when it overflows. */
function elementCount(t: TensorRef, name: string, place: Place): number {
  let n = 1;
  for (const d of t.size) n *= d;
  if (!Number.isSafeInteger(n) || n > 2 ** 31 - 1) {
    throw new WeightsError({ code: 'SMC5041', file: place.file, location: t.at, name, message: `tensor \`${name}\` claims shape [${t.size.join(', ')}], more than 2^31 elements` });
  }
  return n;
}

function isContiguous(size: number[], stride: number[]): boolean {
  let expect = 1;
  for (let k = size.length - 1; k >= 0; k--) {
    if (size[k] !== 1 && stride[k] !== expect) return false;
    expect *= size[k]!;
  }
  return true;
}

/** One tensor from its storage bytes; `ref` bounds were checked by the caller. */
function gather(t: TensorRef, numel: number, base: number, src: StorageBytes): Float32Array {
  const dtype = t.storage.dtype;
  const isz = ITEM_SIZE[dtype];
  const out = new Float32Array(numel);
  if (numel === 0) return out;
  if (dtype === 'float32' && src.littleEndian && isContiguous(t.size, t.stride)) {
    new Uint8Array(out.buffer).set(src.bytes.subarray(base * 4, (base + numel) * 4));
    return out;
  }
  const dv = new DataView(src.bytes.buffer, src.bytes.byteOffset, src.bytes.byteLength);
  const read = READERS[dtype];
  const le = src.littleEndian;
  const nd = t.size.length;
  const idx = new Array<number>(nd).fill(0);
  let lin = base;
  for (let i = 0; i < numel; i++) {
    out[i] = read(dv, lin * isz, le);
    for (let k = nd - 1; k >= 0; k--) {
      lin += t.stride[k]!;
      if (++idx[k]! < t.size[k]!) break;
      lin -= t.stride[k]! * t.size[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * Reads every tensor as float32. `load` returns a storage's bytes (checked against its element count by the
 * format); a storage shared by several tensors (tied weights, views) is loaded once and dropped after its last use.
 * `maxElements` bounds the total output (the caller derives it from the file size).
 */
export function materialize(
  refs: Map<string, TensorRef>,
  load: (s: StorageRef) => StorageBytes,
  place: Place,
  maxElements: number,
): { tensors: Map<string, Tensor>; dtypes: Map<string, TorchDtype> } {
  const counts = new Map<string, number>();
  let total = 0;
  for (const [name, t] of refs) {
    const numel = elementCount(t, name, place);
    total += numel;
    if (total > maxElements) {
      throw new WeightsError({ code: 'SMC5041', file: place.file, location: t.at, name, message: `the tensors claim more than ${maxElements} elements in all (at \`${name}\`), far more than the file holds` });
    }
    const s = t.storage;
    const limit = s.view ? s.view.numel : s.numel;
    let last = t.offset;
    for (let k = 0; k < t.size.length; k++) last += (t.size[k]! - 1) * t.stride[k]!;
    if (numel > 0 && last >= limit) {
      throw new WeightsError({
        code: 'SMC5041', file: place.file, location: t.at, name,
        message: `tensor \`${name}\` (shape [${t.size.join(', ')}], offset ${t.offset}, stride [${t.stride.join(', ')}]) reaches element ${last} of storage ${s.key}, which holds ${limit}`,
      });
    }
    counts.set(s.key, (counts.get(s.key) ?? 0) + 1);
  }
  const cache = new Map<string, StorageBytes>();
  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, TorchDtype>();
  for (const [name, t] of refs) {
    const s = t.storage;
    let src = cache.get(s.key);
    if (!src) cache.set(s.key, (src = load(s)));
    const numel = t.size.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape: [...t.size], data: gather(t, numel, (s.view?.offset ?? 0) + t.offset, src) });
    dtypes.set(name, s.dtype);
    const left = counts.get(s.key)! - 1;
    counts.set(s.key, left);
    if (left === 0) cache.delete(s.key);
  }
  return { tensors, dtypes };
}

/** The output bound for a file of `fileBytes`: 4 float32 elements per file byte, plus 1 Mi (stride-0 views). */
export const maxElementsFor = (fileBytes: number): number => 4 * fileBytes + (1 << 20);
