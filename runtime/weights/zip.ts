// A minimal zip reader for torch checkpoints: the central directory (zip64 included, as PyTorch writes it),
// stored or deflated entries (node:zlib), every offset and size checked against the file, errors naming the entry.

import { inflateRawSync } from 'node:zlib';
import { TRUNCATED_HINT, WeightsError } from './errors.js';
import type { FileBytes } from './file-bytes.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function corrupt(f: FileBytes, location: string, message: string): never {
  throw new WeightsError({ code: 'SMC5041', file: f.path, location, message, hint: TRUNCATED_HINT });
}

/** No end-of-central-directory record: a cut file. Name the last entry whose header survives, if any. */
function truncatedZip(f: FileBytes): never {
  const span = Math.min(f.size, 4 << 20);
  const tail = f.read(f.size - span, span, 'the end of the zip');
  for (let i = tail.length - 30; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== LOCAL) continue;
    const n = tail.readUInt16LE(i + 26);
    if (i + 30 + n > tail.length) continue;
    const name = tail.subarray(i + 30, i + 30 + n).toString('utf8');
    if (!/^[\x20-\x7e]+$/.test(name)) continue;
    const at = f.size - span + i;
    corrupt(f, `byte ${f.size}`, `the file is truncated: the zip ends at byte ${f.size} inside or after entry ${name} (its header at byte ${at}), before its central directory`);
  }
  return corrupt(f, `byte ${f.size}`, `the file is truncated or not a zip: no end-of-central-directory record before byte ${f.size}`);
}

function findEocd(f: FileBytes): number {
  if (f.size < 22) truncatedZip(f);
  const span = Math.min(f.size, 22 + 0xffff);
  const tail = f.read(f.size - span, span, 'the zip end record');
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) return f.size - span + i;
  }
  return truncatedZip(f);
}

/** The entries of the zip, by name. */
export function readZipDirectory(f: FileBytes): Map<string, ZipEntry> {
  const eocdAt = findEocd(f);
  const eocd = f.read(eocdAt, 22, 'the zip end record');
  let count = eocd.readUInt16LE(10);
  let cdSize = eocd.readUInt32LE(12);
  let cdOffset = eocd.readUInt32LE(16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdAt < 20) corrupt(f, `byte ${eocdAt}`, 'the zip64 end record locator is missing');
    const loc = f.read(eocdAt - 20, 20, 'the zip64 end record locator');
    if (loc.readUInt32LE(0) !== EOCD64_LOCATOR) corrupt(f, `byte ${eocdAt - 20}`, 'the zip64 end record locator is missing');
    const at = Number(loc.readBigUInt64LE(8));
    const rec = f.read(at, 56, 'the zip64 end record');
    if (rec.readUInt32LE(0) !== EOCD64) corrupt(f, `byte ${at}`, 'the zip64 end record is damaged');
    count = Number(rec.readBigUInt64LE(32));
    cdSize = Number(rec.readBigUInt64LE(40));
    cdOffset = Number(rec.readBigUInt64LE(48));
  }
  const cd = f.read(cdOffset, cdSize, 'the zip central directory');
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) corrupt(f, `byte ${cdOffset + p}`, `zip central directory record ${i} is damaged`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) corrupt(f, `byte ${cdOffset + p}`, `zip central directory record ${i} is damaged`);
    const name = cd.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // zip64 extended information: the 64-bit values of the fields saturated above, in this order.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len) corrupt(f, `byte ${cdOffset + e}`, `zip entry ${name} has a damaged zip64 field`);
          const v = Number(cd.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + len;
    }
    if (flags & 1) throw new WeightsError({ code: 'SMC5043', file: f.path, location: `zip entry ${name}`, message: 'the zip entry is encrypted' });
    entries.set(name, { name, method, compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** An entry's bytes, checked to lie inside the file and to have the size the directory gives. */
export function readZipEntry(f: FileBytes, e: ZipEntry): Buffer {
  const what = `zip entry ${e.name}`;
  const local = f.read(e.localOffset, 30, `${what}'s header`);
  if (local.readUInt32LE(0) !== LOCAL) corrupt(f, what, `the entry has no local header at byte ${e.localOffset}`);
  const data = e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const raw = f.read(data, e.compressedSize, what);
  if (e.method === 0) {
    if (e.compressedSize !== e.size) corrupt(f, what, `the entry is stored with ${e.compressedSize} bytes but claims ${e.size}`);
    return raw;
  }
  if (e.method !== 8) {
    throw new WeightsError({ code: 'SMC5043', file: f.path, location: what, message: `the entry uses zip compression method ${e.method}; torch checkpoints are stored or deflated`, hint: 're-save the checkpoint with torch.save' });
  }
  let out: Buffer;
  try {
    out = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
  } catch (err) {
    return corrupt(f, what, `the entry does not inflate: ${(err as Error).message}`);
  }
  if (out.length !== e.size) corrupt(f, what, `the entry inflates to ${out.length} bytes, not ${e.size}`);
  return out;
}
