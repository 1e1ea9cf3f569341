// Random access to a weights file through a file descriptor (no 2 GiB readFile limit, nothing read twice) or to
// bytes in memory, with located errors for reads past the end, and the sha256 for provenance.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { TRUNCATED_HINT, WeightsError } from './errors.js';

export class FileBytes {
  readonly size: number;
  private readonly fd: number = -1;
  private readonly mem?: Uint8Array;

  /** Opens `path`; or, with `bytes`, serves them under the name `path` (tests, data already in memory). */
  constructor(readonly path: string, bytes?: Uint8Array) {
    if (bytes) {
      this.mem = bytes;
      this.size = bytes.length;
      return;
    }
    try {
      this.fd = openSync(path, 'r');
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new WeightsError({ code: 'SMC5040', file: path, message: `cannot read the weights file: ${code}`, hint: 'check the path and its permissions' });
    }
  }

  /** Bytes [pos, pos + len); a range past the end is a truncated file, located at `what` (a zip entry, a storage…). */
  read(pos: number, len: number, what: string): Buffer {
    if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(len) || pos < 0 || len < 0 || pos + len > this.size) {
      throw new WeightsError({
        code: 'SMC5041',
        file: this.path,
        location: `byte ${pos}`,
        message: `the file is truncated: ${what} needs bytes ${pos}..${pos + len} but the file ends at byte ${this.size}`,
        hint: TRUNCATED_HINT,
      });
    }
    if (this.mem) return Buffer.from(this.mem.subarray(pos, pos + len));
    const out = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, out, done, len - done, pos + done);
      if (n === 0) throw new WeightsError({ code: 'SMC5041', file: this.path, location: `byte ${pos + done}`, message: 'the file shrank while being read', hint: TRUNCATED_HINT });
      done += n;
    }
    return out;
  }

  sha256(): string {
    const h = createHash('sha256');
    if (this.mem) return h.update(this.mem).digest('hex');
    const chunk = Buffer.allocUnsafe(Math.min(8 << 20, Math.max(1, this.size)));
    for (let pos = 0; pos < this.size; ) {
      const n = readSync(this.fd, chunk, 0, Math.min(chunk.length, this.size - pos), pos);
      if (n === 0) break;
      h.update(chunk.subarray(0, n));
      pos += n;
    }
    return h.digest('hex');
  }

  close(): void {
    if (!this.mem) closeSync(this.fd);
  }
}
