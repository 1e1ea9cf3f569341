// test/data/helpers/pickle-writer.ts — a minimal pickle writer (dicts, strings, numpy arrays via _frombuffer) for building large sparse test files without Python.
import * as fs from 'node:fs';

export type PyValue = string | number | PyArray | { [k: string]: PyValue };
export interface PyArray {
  kind: 'array';
  dtype: string;
  shape: number[];
  data?: Uint8Array;
  /** payload length when data is omitted (left as a sparse hole) */
  byteLength?: number;
  /** payload opcode: BYTEARRAY8 (default) or BINBYTES (4-byte unsigned length, as CPython writes 2-4 GiB bytes) */
  opcode?: 'BYTEARRAY8' | 'BINBYTES';
}

/**
 * Write `value` as a protocol-4-compatible pickle. Arrays are `numpy._core.numeric._frombuffer`
 * REDUCEs over BYTEARRAY8 payloads. Payloads without `data` are not written (a sparse hole of zeros),
 * so multi-GiB test files cost no disk. Returns the offset of each array payload by path.
 */
export function writePickle(file: string, value: PyValue): Record<string, number> {
  const fd = fs.openSync(file, 'w');
  let pos = 0;
  const offsets: Record<string, number> = {};
  const put = (b: Uint8Array | number[]) => {
    const u = b instanceof Uint8Array ? b : Uint8Array.from(b);
    fs.writeSync(fd, u, 0, u.length, pos);
    pos += u.length;
  };
  const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
  const u64 = (n: number) => [...u32(n % 2 ** 32), ...u32(Math.floor(n / 2 ** 32))];
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    put([0x58, ...u32(b.length)]); // BINUNICODE
    put(b);
  };
  const ascii = (s: string) => put(Array.from(s, (c) => c.charCodeAt(0)));
  const emit = (v: PyValue, p: string) => {
    if (typeof v === 'string') return str(v);
    if (typeof v === 'number') return put([0x4a, ...u32(v | 0)]); // BININT
    if ((v as PyArray).kind === 'array') {
      const a = v as PyArray;
      ascii('cnumpy._core.numeric\n_frombuffer\n');
      put([0x28]); // MARK
      const len = a.data ? a.data.length : a.byteLength!;
      if (a.opcode === 'BINBYTES') put([0x42, ...u32(len)]); // BINBYTES
      else put([0x96, ...u64(len)]); // BYTEARRAY8
      offsets[p] = pos;
      if (a.data) put(a.data);
      else pos += len;
      ascii('cnumpy\ndtype\n');
      str(a.dtype.replace(/^[<>|]/, ''));
      put([0x89, 0x88, 0x87, 0x52]); // False True TUPLE3 REDUCE
      put([0x28, 0x4b, 3]);
      str(a.dtype.startsWith('>') ? '>' : a.dtype.startsWith('|') ? '|' : '<');
      put([0x4e, 0x4e, 0x4e]);
      const isU = /U(\d+)/.exec(a.dtype);
      put([0x4a, ...u32(isU ? 4 * Number(isU[1]) : -1), 0x4a, ...u32(isU ? 4 : -1), 0x4b, isU ? 8 : 0, 0x74, 0x62]); // elsize, align, flags, TUPLE, BUILD
      put([0x28]);
      for (const d of a.shape) put([0x4a, ...u32(d)]);
      put([0x74]); // TUPLE (shape)
      str('C');
      put([0x74, 0x52]); // TUPLE, REDUCE
      return;
    }
    put([0x7d, 0x28]); // EMPTY_DICT MARK
    for (const [k, x] of Object.entries(v)) {
      str(k);
      emit(x, p ? `${p}.${k}` : k);
    }
    put([0x75]); // SETITEMS
  };
  put([0x80, 4]);
  emit(value, '');
  put([0x2e]); // STOP
  fs.ftruncateSync(fd, pos);
  fs.closeSync(fd);
  return offsets;
}

export function f32bytes(a: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(a).buffer);
}

export function u4bytes(strs: string[], width: number): Uint8Array {
  const out = new Uint32Array(strs.length * width);
  strs.forEach((s, i) => Array.from(s).forEach((c, j) => { out[i * width + j] = c.codePointAt(0)!; }));
  return new Uint8Array(out.buffer);
}
