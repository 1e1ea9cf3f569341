// WeightsError: every failure reading pretrained weights, with a code, the file, and where in it (byte offset or
// zip entry) or which tensor/global. A CheckpointError, so the CLI prints it as `error SMC50xx: …` with its hint.

import { CheckpointError } from '../train/safetensors.js';

/**
 * - SMC5040 the weights folder or file cannot be found or read (no config.json, no weights file)
 * - SMC5041 a checkpoint is truncated or corrupt (location: file @ byte N, or its zip entry)
 * - SMC5042 a checkpoint's pickle names a global that is not allowed (refused by name, never run)
 * - SMC5043 unsupported checkpoint content (dtype, tar or sharded format, zip compression, non-tensor value)
 * - SMC5044 the checkpoint lacks a tensor the spec asks for
 * - SMC5045 a checkpoint tensor's shape differs from the spec's
 * - SMC5046 the checkpoint has tensors the spec does not use (and that are not known to be unused)
 * - SMC5047 config.json is not valid JSON or lacks / mistypes a field
 */
export type WeightsErrorCode = 'SMC5040' | 'SMC5041' | 'SMC5042' | 'SMC5043' | 'SMC5044' | 'SMC5045' | 'SMC5046' | 'SMC5047';

export interface WeightsErrorInit {
  code: WeightsErrorCode;
  message: string;
  hint?: string;
  /** The file the error is about. */
  file?: string;
  /** Where in it: `byte N`, `zip entry archive/data.pkl @ byte N`, … */
  location?: string;
  /** The offending tensor or global name, when there is one. */
  name?: string;
}

export class WeightsError extends CheckpointError {
  declare readonly code: WeightsErrorCode;
  readonly file?: string;
  readonly location?: string;
  readonly offending?: string;

  constructor(init: WeightsErrorInit) {
    const where = init.file ? `${init.file}${init.location ? ` (${init.location})` : ''}: ` : '';
    super(init.code, `${where}${init.message}`, init.hint);
    this.name = 'WeightsError';
    this.file = init.file;
    this.location = init.location;
    this.offending = init.name;
  }
}

/** Where a byte stream lives, for located errors: a file, optionally a zip entry, and the base offset of the stream. */
export interface Place {
  file: string;
  entry?: string;
  /** Added to positions inside the stream to give the position reported (0 for a zip entry: entry-relative). */
  base?: number;
}

export function locate(place: Place, pos: number): string {
  const at = (place.base ?? 0) + pos;
  return place.entry ? `zip entry ${place.entry} @ byte ${at}` : `byte ${at}`;
}

export const TRUNCATED_HINT = 'the download or copy was cut short; fetch the checkpoint again and compare its sha256 with the one published';
