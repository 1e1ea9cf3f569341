// PyTorch's legacy checkpoint (torch < 1.6, e.g. older bert-base-uncased downloads): pickles of the magic number,
// the protocol version (1001) and sys_info, the state dict (storages as persistent ids), the list of storage keys;
// then per key an 8-byte little-endian element count and the storage's raw little-endian bytes.

import { TRUNCATED_HINT, WeightsError, type Place } from './errors.js';
import type { FileBytes } from './file-bytes.js';
import { PickleTruncated, PyDict, unpickle } from './pickle-vm.js';
import { ITEM_SIZE, unpickleStateDict, type StorageRef } from './torch-pickle.js';
import { materialize, maxElementsFor } from './torch-tensors.js';
import type { TorchCheckpoint } from './torch-zip.js';

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

/** Runs `parse` on a window of the file from `start`, widening it while the pickle runs past the window's end. */
function windowed<T extends { end: number }>(f: FileBytes, start: number, parse: (buf: Uint8Array, place: Place) => T): T {
  let len = Math.min(f.size - start, 1 << 20);
  for (;;) {
    const buf = f.read(start, len, 'a pickle');
    try {
      const r = parse(buf, { file: f.path, base: start });
      return { ...r, end: start + r.end };
    } catch (e) {
      if (!(e instanceof PickleTruncated) || start + len >= f.size) throw e;
      len = Math.min(f.size - start, len * 4);
    }
  }
}

const plain = (f: FileBytes, start: number) => windowed(f, start, (buf, place) => unpickle(buf, 0, { place, allowed: new Map() }));

/** Reads a legacy-format `pytorch_model.bin`. */
export function readTorchLegacy(f: FileBytes): TorchCheckpoint {
  const fail = (code: 'SMC5041' | 'SMC5043', location: string, message: string, hint?: string): never => {
    throw new WeightsError({ code, file: f.path, location, message, hint });
  };
  const magic = plain(f, 0);
  if (magic.value !== MAGIC) fail('SMC5041', 'byte 0', 'not a PyTorch checkpoint: the first pickle is not torch’s magic number', 'pass the pytorch_model.bin that torch.save wrote');
  const version = plain(f, magic.end);
  if (version.value !== PROTOCOL_VERSION) fail('SMC5043', `byte ${magic.end}`, `legacy checkpoint protocol ${String(version.value)}; smcirc reads ${PROTOCOL_VERSION}`, 're-save it with a current torch: torch.save(torch.load(f), g)');
  const sysInfo = plain(f, version.end);
  if (!(sysInfo.value instanceof PyDict)) fail('SMC5041', `byte ${version.end}`, 'the checkpoint’s sys_info is not a dict');

  const storages = new Map<string, StorageRef>();
  const sd = windowed(f, sysInfo.end, (buf, place) =>
    unpickleStateDict(buf, 0, place, (ref, at) => {
      const seen = storages.get(ref.key);
      if (seen && seen.dtype !== ref.dtype) fail('SMC5041', at, `storage ${ref.key} is named as ${seen.dtype} and as ${ref.dtype}`);
      if (!seen || ref.numel > seen.numel) storages.set(ref.key, ref);
    }),
  );
  const keysAt = sd.end;
  const keys = plain(f, keysAt);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) fail('SMC5041', `byte ${keysAt}`, 'the list of storage keys is damaged');

  // Storage records follow in key order: u64 LE element count, then count × item size bytes.
  const records = new Map<string, { at: number; bytes: number }>();
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const ref = storages.get(key);
    if (!ref) fail('SMC5041', `byte ${pos}`, `storage ${key} is listed but no tensor names it`);
    const head = f.read(pos, 8, `storage ${key}'s element count`);
    const count = Number(head.readBigUInt64LE(0));
    const bytes = count * ITEM_SIZE[ref!.dtype];
    if (count < ref!.numel) fail('SMC5041', `byte ${pos}`, `storage ${key} holds ${count} elements but its tensors claim ${ref!.numel}`);
    if (!Number.isSafeInteger(bytes) || pos + 8 + bytes > f.size) {
      fail('SMC5041', `byte ${pos}`, `the file is truncated: storage ${key} needs ${count} × ${ITEM_SIZE[ref!.dtype]} bytes from byte ${pos + 8}, but the file ends at byte ${f.size}`, TRUNCATED_HINT);
    }
    records.set(key, { at: pos + 8, bytes });
    pos += 8 + bytes;
  }
  for (const key of storages.keys()) if (!records.has(key)) fail('SMC5041', `byte ${keysAt}`, `storage ${key} is named by a tensor but missing from the list of storages`);
  return materialize(sd.tensors, (s) => {
    const r = records.get(s.key)!;
    return { bytes: f.read(r.at, r.bytes, `storage ${s.key}`), littleEndian: true };
  }, { file: f.path }, maxElementsFor(f.size));
}
