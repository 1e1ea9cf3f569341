// safetensors files: read and write f32 tensors with string metadata; writes are atomic (temp file, fsync,
// rename), so a kill or a full disk mid-write leaves the previous file intact.

import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

export class CheckpointError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function encodeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, pos);
    pos += d.byteLength;
  }
  return out;
}

export function decodeSafetensors(buf: Buffer, file = '<buffer>'): { tensors: Map<string, { shape: number[]; data: Float32Array }>; metadata: Record<string, string> } {
  const bad = (why: string): never => {
    throw new CheckpointError('SMC5010', `${file} is not a valid safetensors file: ${why}`, 'the file may be truncated or from another tool; use the run folder’s best.safetensors or last.safetensors');
  };
  if (buf.length < 8) bad('shorter than its 8-byte header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (n <= 0 || 8 + n > buf.length) bad(`header length ${n} exceeds the file size ${buf.length}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch {
    return bad('its header is not JSON');
  }
  const base = 8 + n;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  let metadata: Record<string, string> = {};
  if (!header || typeof header !== 'object' || Array.isArray(header)) return bad('its header is not a JSON object');
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!h || typeof h !== 'object' || Array.isArray(h) || Object.values(h).some((v) => typeof v !== 'string')) bad('its __metadata__ is not an object of strings');
      metadata = h as unknown as Record<string, string>;
      continue;
    }
    const okEntry = h && typeof h === 'object' && Array.isArray(h.shape) && h.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)
      && Array.isArray(h.data_offsets) && h.data_offsets.length === 2 && h.data_offsets.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0);
    if (!okEntry) bad(`tensor ${name} has no valid shape or data_offsets`);
    if (h.dtype !== 'F32') bad(`tensor ${name} has dtype ${h.dtype}; smcirc reads F32`);
    const [s, e] = h.data_offsets;
    const count = h.shape.reduce((a, b) => a * b, 1);
    if (e - s !== count * 4 || base + e > buf.length) bad(`tensor ${name} lies outside the file or disagrees with its shape`);
    const data = new Float32Array(count);
    Buffer.from(data.buffer).set(buf.subarray(base + s, base + e));
    tensors.set(name, { shape: h.shape, data });
  }
  return { tensors, metadata };
}

/** Writes `bytes` to `path` atomically. A failure (full disk, ...) leaves any previous file untouched. */
export function writeFileAtomic(path: string, bytes: Buffer): void {
  const tmp = join(dirname(path), `.${basename(path)}${TMP_MARK}${process.pid}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new CheckpointError('SMC5011', `the disk is full: could not write ${path}`, 'free some space; the previous checkpoint is intact, and `--resume` continues from it');
    throw new CheckpointError('SMC5012', `could not write ${path}: ${(e as Error).message}`, 'check that the run folder is writable; the previous checkpoint is intact');
  }
}

export function writeSafetensors(path: string, tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function readSafetensors(path: string): ReturnType<typeof decodeSafetensors> {
  let buf: Buffer;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CheckpointError('SMC5013', `${path} is not a regular file`, 'pass a run folder made by `smcirc train` or a .safetensors checkpoint');
    buf = readFileSync(path);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError('SMC5013', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pass a run folder made by `smcirc train` or a .safetensors checkpoint');
  }
  return decodeSafetensors(buf, path);
}

const TMP_MARK = '.tmp-';

/** Deletes temporary checkpoint files left in `dir` by processes that no longer run (a kill during a write). */
export function removeOrphanTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^\..+\.tmp-(\d+)$/.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(dir, n), { force: true });
    }
  }
}
