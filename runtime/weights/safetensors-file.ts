// model.safetensors through the project's reader (runtime/train/safetensors.ts, F32), after checking the header
// ourselves so that a hostile one (negative shapes, offsets outside the data, wrong types) is a located
// WeightsError rather than a RangeError; the reader's own errors become WeightsErrors too.

import { CheckpointError, decodeSafetensors } from '../train/safetensors.js';
import { TRUNCATED_HINT, WeightsError } from './errors.js';
import type { FileBytes } from './file-bytes.js';
import type { Tensor } from './torch-tensors.js';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkHeader(buf: Buffer, file: string): void {
  const bad = (message: string, name?: string): never => {
    throw new WeightsError({ code: 'SMC5041', file, name, location: name ? `header entry ${name}` : 'byte 0', message, hint: TRUNCATED_HINT });
  };
  if (buf.length < 8) bad('the file is truncated: shorter than its 8-byte header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (!(n > 1) || 8 + n > buf.length) bad(`the file is truncated: its header claims ${n} bytes, the file has ${buf.length}`);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch {
    return bad('the header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return bad('the header is not a JSON object');
  const dataBytes = buf.length - 8 - n;
  for (const [name, h] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const e = h as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null || typeof e.dtype !== 'string') bad('a header entry without a dtype', name);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) bad(`tensor \`${name}\` has shape ${JSON.stringify(e.shape)}`, name);
    const o = e.data_offsets;
    if (!Array.isArray(o) || o.length !== 2 || !isCount(o[0]) || !isCount(o[1]) || o[0] > o[1]) bad(`tensor \`${name}\` has data offsets ${JSON.stringify(o)}`, name);
    if ((o as number[])[1]! > dataBytes) bad(`the file is truncated: tensor \`${name}\` needs data bytes up to ${(o as number[])[1]}, the file holds ${dataBytes}`, name);
  }
}

export function readSafetensorsFile(f: FileBytes): { tensors: Map<string, Tensor>; dtypes: Map<string, string> } {
  const buf = f.read(0, f.size, 'the safetensors file');
  checkHeader(buf, f.path);
  try {
    const { tensors } = decodeSafetensors(buf, f.path);
    return { tensors, dtypes: new Map([...tensors.keys()].map((k) => [k, 'float32'])) };
  } catch (e) {
    if (!(e instanceof CheckpointError) || e instanceof WeightsError) throw e;
    const unsupported = /has dtype/.test(e.message);
    throw new WeightsError({
      code: unsupported ? 'SMC5043' : 'SMC5041',
      file: f.path,
      message: e.message.replace(`${f.path} is not a valid safetensors file: `, ''),
      hint: unsupported ? 'smcirc reads F32 safetensors; pytorch_model.bin may hold f16/bf16/f64 (converted on load)' : TRUNCATED_HINT,
    });
  }
}
