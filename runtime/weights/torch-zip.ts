// PyTorch's zip checkpoint (torch >= 1.6): `<record>/data.pkl` (the state dict, storages as persistent ids) and
// `<record>/data/<key>` (raw storages), `<record>/byteorder` ("little" / "big", torch >= 2.0) and `version`.

import { WeightsError, type Place } from './errors.js';
import type { FileBytes } from './file-bytes.js';
import { ITEM_SIZE, unpickleStateDict, type StorageRef, type TorchDtype } from './torch-pickle.js';
import { materialize, maxElementsFor, type Tensor } from './torch-tensors.js';
import { readZipDirectory, readZipEntry, type ZipEntry } from './zip.js';

export interface TorchCheckpoint {
  tensors: Map<string, Tensor>;
  /** Each tensor's stored element type (all are returned as float32). */
  dtypes: Map<string, TorchDtype>;
}

/** Reads a zip-format `pytorch_model.bin`. */
export function readTorchZip(f: FileBytes): TorchCheckpoint {
  const entries = readZipDirectory(f);
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new WeightsError({
      code: 'SMC5041',
      file: f.path,
      message: pkls.length ? `the zip has ${pkls.length} data.pkl records (${pkls.join(', ')})` : `the zip has no <record>/data.pkl: not a PyTorch checkpoint (entries: ${[...entries.keys()].slice(0, 5).join(', ')})`,
      hint: 'pass the pytorch_model.bin that torch.save wrote',
    });
  }
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  const entry = (name: string): ZipEntry | undefined => entries.get(prefix + name);

  let littleEndian = true;
  const bo = entry('byteorder');
  if (bo) {
    const v = readZipEntry(f, bo).toString('latin1').trim();
    if (v !== 'little' && v !== 'big') throw new WeightsError({ code: 'SMC5041', file: f.path, location: `zip entry ${bo.name}`, message: `byteorder is '${v.slice(0, 20)}', not little or big` });
    littleEndian = v === 'little';
  }

  const pklPlace: Place = { file: f.path, entry: pkls[0]! };
  const pkl = readZipEntry(f, entries.get(pkls[0]!)!);
  const storages = new Map<string, { ref: StorageRef; entry: ZipEntry }>();
  const { tensors: refs } = unpickleStateDict(pkl, 0, pklPlace, (ref, at) => {
    const bad = (message: string): never => {
      throw new WeightsError({ code: 'SMC5041', file: f.path, location: at, message, hint: 'the file is damaged or was cut short; fetch it again' });
    };
    const seen = storages.get(ref.key);
    if (seen) {
      if (seen.ref.dtype !== ref.dtype) bad(`storage ${ref.key} is named as ${seen.ref.dtype} and as ${ref.dtype}`);
      return;
    }
    const e = entry(`data/${ref.key}`);
    if (!e) return bad(`storage ${ref.key} has no zip entry ${prefix}data/${ref.key}`);
    const bytes = ref.numel * ITEM_SIZE[ref.dtype];
    if (e.size < bytes) bad(`storage ${ref.key} claims ${ref.numel} ${ref.dtype} elements (${bytes} bytes) but zip entry ${e.name} holds ${e.size} bytes`);
    storages.set(ref.key, { ref, entry: e });
  });
  const place: Place = { file: f.path };
  return materialize(refs, (s) => ({ bytes: readZipEntry(f, storages.get(s.key)!.entry), littleEndian }), place, maxElementsFor(f.size));
}
