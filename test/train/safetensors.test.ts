// Checkpoints: safetensors round trip, a truncated file is a located error, and a full disk mid-write
// (simulated with /dev/full) leaves the previous checkpoint intact.

import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CheckpointError, decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from '../../runtime/train/safetensors.js';

const tensors = new Map([
  ['head.out_proj.weight', { shape: [1, 3], data: Float32Array.of(0.5, -1.25, 3) }],
  ['head.out_proj.bias', { shape: [1], data: Float32Array.of(7) }],
]);

describe('safetensors', () => {
  test('round trip with metadata; header is 8-byte aligned and names are sorted', () => {
    const buf = encodeSafetensors(tensors, { format: 'pt', epoch: '3' });
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    expect(header['head.out_proj.bias'].data_offsets).toEqual([0, 4]);
    expect(header['head.out_proj.weight']).toEqual({ dtype: 'F32', shape: [1, 3], data_offsets: [4, 16] });
    const back = decodeSafetensors(buf);
    expect(back.metadata).toEqual({ format: 'pt', epoch: '3' });
    expect([...back.tensors.get('head.out_proj.weight')!.data]).toEqual([0.5, -1.25, 3]);
  });

  test('a truncated file is refused with a located message', () => {
    const buf = encodeSafetensors(tensors);
    expect(() => decodeSafetensors(buf.subarray(0, buf.length - 3), 'x.safetensors')).toThrow(/x\.safetensors is not a valid safetensors file: tensor head\.out_proj\.weight lies outside the file/);
    expect(() => decodeSafetensors(Buffer.from([1, 2]), 'y.safetensors')).toThrow(CheckpointError);
  });

  test('a full disk during a write leaves the previous checkpoint intact', () => {
    if (!existsSync('/dev/full')) {
      console.warn('skipped: /dev/full is not available to simulate a full disk');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'smcirc-ck-'));
    const path = join(dir, 'last.safetensors');
    writeSafetensors(path, tensors, { epoch: '1' });
    const before = readFileSync(path);
    // the next write's temporary file lands on /dev/full, which fails every write with ENOSPC
    symlinkSync('/dev/full', join(dir, `.last.safetensors.tmp-${process.pid}`));
    let err: unknown;
    try {
      writeSafetensors(path, tensors, { epoch: '2' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).code).toBe('SMC5011');
    expect((err as CheckpointError).message).toContain('the disk is full');
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readSafetensors(path).metadata.epoch).toBe('1');
  });
});
