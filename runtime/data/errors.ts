// runtime/data/errors.ts — owns DataError (SMC60xx codes) for data loading, conversion, protocols and metrics.

/**
 * Error codes (all `SMC60xx`):
 *  - SMC6001 file cannot be opened / read
 *  - SMC6002 pickle is truncated or corrupt (location = file @ byte offset)
 *  - SMC6003 not a pickle at all ("invalid load key", e.g. a corrupt MOSEI download)
 *  - SMC6004 unsupported pickle content (torch tensors, structured dtypes, unknown objects)
 *  - SMC6005 checksum mismatch against the MMSA-published SHA-256
 *  - SMC6006 the data path is not a regular file (a FIFO, a device, a socket, a /proc file): refused before opening
 *  - SMC6010 a split (train/valid/test) is missing
 *  - SMC6011 a required key is missing from a split
 *  - SMC6012 array lengths disagree inside a split (N differs between keys)
 *  - SMC6013 array shape differs from the shape the spec expects
 *  - SMC6014 shapes differ between splits
 *  - SMC6015 array has the wrong rank / dtype for its key
 *  - SMC6016 token ids outside the vocabulary, or an attention mask that is not 0/1
 *  - SMC6017 NaN or infinite labels or features (split, row, key), found when loading
 *  - SMC6020 chunked dataset directory is missing or inconsistent
 *  - SMC6021 a file of a converted folder does not match the sha256 its manifest records
 *  - SMC6022 a converted folder's manifest names a file outside the folder (not a plain file name)
 *  - SMC6030 bad arguments to a data/metrics/protocol function
 */
export type DataErrorCode =
  | 'SMC6001' | 'SMC6002' | 'SMC6003' | 'SMC6004' | 'SMC6005' | 'SMC6006'
  | 'SMC6010' | 'SMC6011' | 'SMC6012' | 'SMC6013' | 'SMC6014' | 'SMC6015' | 'SMC6016' | 'SMC6017'
  | 'SMC6020' | 'SMC6021' | 'SMC6022' | 'SMC6030';

export interface DataErrorInit {
  code: DataErrorCode;
  message: string;
  hint?: string;
  /** Where: `file @ byte N` for parse errors, or a key path like `train.audio`. */
  location?: string;
}

export class DataError extends Error {
  readonly code: DataErrorCode;
  readonly hint?: string;
  readonly location?: string;

  constructor(init: DataErrorInit) {
    super(init.message);
    this.name = 'DataError';
    this.code = init.code;
    this.hint = init.hint;
    this.location = init.location;
  }

  /** Human-readable, stack-free rendering for the CLI. */
  format(): string {
    let s = `error ${this.code}: ${this.message}`;
    if (this.location) s += `\n  at: ${this.location}`;
    if (this.hint) s += `\n  hint: ${this.hint}`;
    return s;
  }

  override toString(): string {
    return this.format();
  }
}

export function isDataError(e: unknown): e is DataError {
  return e instanceof DataError;
}
