import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NdArray, ndToFloat64, ndToStrings, parsePickleBytes, withPickleFile } from '../../runtime/data/pickle.js';
import { writePickle } from './helpers/pickle-writer.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smc-dtypes-'));

function bytesOf(dtype: string, values: number[]): Uint8Array {
  const m = /^([<>|]?)([a-z])(\d+)$/.exec(dtype)!;
  const le = m[1] !== '>';
  const size = Number(m[3]);
  const dv = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) => {
    const o = i * size;
    switch (`${m[2]}${size}`) {
      case 'f2': dv.setUint16(o, v === 1.5 ? 0x3e00 : v === -2 ? 0xc000 : v === 0.25 ? 0x3400 : 0x0000, le); break;
      case 'f4': dv.setFloat32(o, v, le); break;
      case 'f8': dv.setFloat64(o, v, le); break;
      case 'i1': dv.setInt8(o, v); break;
      case 'u1': case 'b1': dv.setUint8(o, v); break;
      case 'i2': dv.setInt16(o, v, le); break;
      case 'u2': dv.setUint16(o, v, le); break;
      case 'i4': dv.setInt32(o, v, le); break;
      case 'u4': dv.setUint32(o, v, le); break;
      case 'i8': dv.setBigInt64(o, BigInt(v), le); break;
      case 'u8': dv.setBigUint64(o, BigInt(v), le); break;
    }
  });
  return new Uint8Array(dv.buffer);
}

describe('ndarray dtype decoding', () => {
  const cases: [string, number[]][] = [
    ['<f2', [1.5, -2, 0.25, 0]],
    ['<f4', [1.25, -3.5, 2 ** -70, -Infinity]],
    ['>f4', [1.25, -3.5, 7, 8]],
    ['>f8', [1 / 3, -2.5, 1e300, 0]],
    ['|i1', [-128, 127, 0, -1]],
    ['|u1', [0, 255, 7, 8]],
    ['|b1', [1, 0, 1, 1]],
    ['<i2', [-32768, 32767, 1, -1]],
    ['>u2', [65535, 0, 258, 1]],
    ['<i4', [-2147483648, 2147483647, 5, -5]],
    ['<u4', [4294967295, 0, 1, 2]],
    ['<i8', [-(2 ** 53) + 1, 2 ** 40, 0, -7]],
    ['>i8', [123456789012, -1, 2, 3]],
    ['<u8', [2 ** 52, 0, 1, 9]],
  ];
  for (const [dtype, values] of cases) {
    for (const lazy of [false, true]) {
      it(`${dtype}${lazy ? ' (lazy from file, 3-byte chunks)' : ''}`, () => {
        const p = path.join(tmp, `${dtype.replace(/[<>|]/g, '_')}_${lazy}.pkl`);
        writePickle(p, { a: { kind: 'array', dtype, shape: [2, 2], data: bytesOf(dtype, values) } });
        withPickleFile(p, ({ value }) => {
          const a = (value as { a: NdArray }).a;
          expect(a.shape).toEqual([2, 2]);
          expect(Array.from(ndToFloat64(a))).toEqual(values);
        }, { lazyThreshold: lazy ? 3 : undefined });
      });
    }
  }

  it('Fortran-order arrays are returned in C order', () => {
    const p = path.join(tmp, 'fortran.pkl');
    // C-order [[1,2,3],[4,5,6]] stored column-major: 1,4,2,5,3,6
    writePickle(p, { a: { kind: 'array', dtype: '<f8', shape: [2, 3], data: bytesOf('<f8', [1, 4, 2, 5, 3, 6]) } });
    const bytes = fs.readFileSync(p);
    // flip the order argument 'C' -> 'F' (the last BINUNICODE of length 1)
    const i = bytes.lastIndexOf(Buffer.from([0x58, 1, 0, 0, 0, 0x43]));
    bytes[i + 5] = 0x46;
    const { value } = parsePickleBytes(bytes);
    const a = (value as { a: NdArray }).a;
    expect(a.fortran).toBe(true);
    expect(Array.from(ndToFloat64(a))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('<U strings (UTF-32, incl. astral) are decoded and NUL-trimmed', () => {
    const p = path.join(tmp, 'u.pkl');
    const strs = ['café', '😀x', ''];
    const cps = new Uint32Array(3 * 4);
    strs.forEach((s, r) => Array.from(s).forEach((c, j) => { cps[r * 4 + j] = c.codePointAt(0)!; }));
    writePickle(p, { s: { kind: 'array', dtype: '<U4', shape: [3], data: new Uint8Array(cps.buffer) } });
    withPickleFile(p, ({ value }) => expect(ndToStrings((value as { s: NdArray }).s)).toEqual(strs));
  });
});
