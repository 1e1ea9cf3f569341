// A Hugging Face model folder (config.json + model.safetensors or pytorch_model.bin) or a single weights file,
// read into float32 tensors by name, with the format, the stored dtypes and the file's sha256 for provenance.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readBertConfig, type BertConfig } from './bert-config.js';
import { WeightsError } from './errors.js';
import { FileBytes } from './file-bytes.js';
import { readSafetensorsFile } from './safetensors-file.js';
import { readTorchLegacy } from './torch-legacy.js';
import type { Tensor } from './torch-tensors.js';
import { readTorchZip } from './torch-zip.js';

export type WeightsFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

export interface LoadedWeights {
  file: string;
  format: WeightsFormat;
  /** sha256 of the weights file (hex). */
  sha256: string;
  /** Every tensor of the file, as float32, in file order. */
  tensors: Map<string, Tensor>;
  /** Each tensor's stored element type (`float32`, `float16`, …). */
  dtypes: Map<string, string>;
}

export interface HfFolder extends LoadedWeights {
  dir: string;
  config: BertConfig;
}

function formatOf(f: FileBytes): WeightsFormat {
  if (f.size === 0) throw new WeightsError({ code: 'SMC5041', file: f.path, location: 'byte 0', message: 'the file is empty', hint: 'the download failed; fetch it again' });
  const head = f.read(0, Math.min(f.size, 512), 'the file header');
  if (/\.safetensors$/i.test(f.path)) return 'safetensors';
  // A zip starts with a local header (PK\3\4; a cut one with part of it); a legacy checkpoint with PROTO.
  const zipHead = Buffer.from('PK\x03\x04', 'latin1');
  if (head.subarray(0, 4).equals(zipHead.subarray(0, Math.min(4, head.length))) || (head.length >= 4 && head.readUInt32LE(0) === 0x06054b50)) return 'torch-zip';
  if (head[0] === 0x80 && (head.length < 2 || (head[1]! >= 2 && head[1]! <= 5))) return 'torch-legacy';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') {
    throw new WeightsError({ code: 'SMC5043', file: f.path, message: 'a tar checkpoint (torch < 0.4); smcirc reads the zip and legacy pickle formats', hint: 're-save it with a current torch: torch.save(torch.load(f), g)' });
  }
  throw new WeightsError({ code: 'SMC5041', file: f.path, location: 'byte 0', message: `not a PyTorch checkpoint or safetensors file (it starts with ${JSON.stringify(head.subarray(0, 8).toString('latin1'))})`, hint: 'an HTML error page or a Git LFS pointer saved in place of the weights? fetch the file again' });
}

/** Reads one weights file: `*.safetensors`, or a `pytorch_model.bin` in the zip or legacy format. */
export function readWeightsFile(path: string): LoadedWeights {
  const f = new FileBytes(path);
  try {
    return readWeights(f);
  } finally {
    f.close();
  }
}

/** Reads weights from an open FileBytes (a file, or bytes in memory under a file name). */
export function readWeights(f: FileBytes): LoadedWeights {
  const format = formatOf(f);
  const read = format === 'safetensors' ? readSafetensorsFile(f) : format === 'torch-zip' ? readTorchZip(f) : readTorchLegacy(f);
  return { file: f.path, format, sha256: f.sha256(), tensors: read.tensors, dtypes: read.dtypes as Map<string, string> };
}

/** The weights file a folder offers: model.safetensors first (no pickle at all), then pytorch_model.bin. */
export function findWeightsFile(dir: string, prefer: 'safetensors' | 'pytorch' = 'safetensors'): string {
  const order = prefer === 'safetensors' ? ['model.safetensors', 'pytorch_model.bin'] : ['pytorch_model.bin', 'model.safetensors'];
  for (const f of order) if (existsSync(join(dir, f))) return join(dir, f);
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch (e) {
    throw new WeightsError({ code: 'SMC5040', file: dir, message: `cannot read the model folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'pass the folder that holds config.json and the weights' });
  }
  const sharded = files.find((f) => /^(model\.safetensors|pytorch_model\.bin)\.index\.json$/.test(f));
  if (sharded) throw new WeightsError({ code: 'SMC5043', file: join(dir, sharded), message: 'sharded checkpoints are not read yet', hint: 'BERT-size models come as one file; save one with model.save_pretrained(dir, max_shard_size="10GB")' });
  const other = files.find((f) => /^(tf_model\.h5|flax_model\.msgpack|model\.ckpt.*)$/.test(f));
  throw new WeightsError({
    code: other ? 'SMC5043' : 'SMC5040',
    file: dir,
    message: other ? `the folder holds ${other} (TensorFlow/Flax weights) but no model.safetensors or pytorch_model.bin` : `no model.safetensors or pytorch_model.bin in the folder (it has: ${files.slice(0, 8).join(', ') || 'nothing'})`,
    hint: other ? 'convert them with transformers: BertModel.from_pretrained(dir, from_tf=True).save_pretrained(out)' : 'download the PyTorch weights of the model (model.safetensors or pytorch_model.bin)',
  });
}

/** Reads a Hugging Face BERT folder: config.json plus its weights. */
export function readHfBertFolder(dir: string, opts: { prefer?: 'safetensors' | 'pytorch' } = {}): HfFolder {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) {
    throw new WeightsError({ code: 'SMC5040', file: dir, message: 'the model folder has no config.json', hint: 'pass the Hugging Face model folder (config.json next to model.safetensors or pytorch_model.bin)' });
  }
  const config = readBertConfig(configPath);
  return { dir, config, ...readWeightsFile(findWeightsFile(dir, opts.prefer)) };
}
