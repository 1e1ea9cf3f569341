// Truncated, damaged or lying files give a located WeightsError (code, file, byte offset or zip entry), never a
// crash, a stack trace, a huge allocation or a hang: the committed truncated fixtures, every cut point of the
// tiny checkpoints, storages and views that claim more than the file holds, and random byte damage.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileBytes, readHfBertFolder, readWeights, readWeightsFile, WeightsError } from '../../runtime/weights/index.js';
import { fixture, error } from './helpers.js';

const T = { timeout: 8_000 };


/** `bytes` with `find` replaced (first occurrence) by `repl` of the same length. */
function patch(bytes: Buffer, find: string, repl: string): Buffer {
  const at = bytes.indexOf(Buffer.from(find, 'latin1'));
  expect(at, `pattern ${JSON.stringify(find)}`).toBeGreaterThanOrEqual(0);
  const out = Buffer.from(bytes);
  Buffer.from(repl, 'latin1').copy(out, at);
  return out;
}

const zipBytes = readFileSync(fixture('tiny-zip/pytorch_model.bin'));
const legacyBytes = readFileSync(fixture('tiny-legacy/pytorch_model.bin'));

describe('the truncated fixtures', () => {
  it('a cut zip names the file, the byte it ends at and the entry the cut falls in', T, () => {
    const e = error(() => readHfBertFolder(fixture('hostile/truncated-zip')));
    const size = readFileSync(fixture('hostile/truncated-zip/pytorch_model.bin')).length;
    expect(e.code).toBe('SMC5041');
    expect(e.file).toBe(fixture('hostile/truncated-zip/pytorch_model.bin'));
    expect(e.location).toBe(`byte ${size}`);
    expect(e.message).toMatch(/the file is truncated: the zip ends at byte \d+ inside or after entry archive\/data\/\d+ \(its header at byte \d+\)/);
  });

  it('a cut legacy file names the storage that runs past the end and where it starts', T, () => {
    const e = error(() => readHfBertFolder(fixture('hostile/truncated-legacy')));
    expect(e.code).toBe('SMC5041');
    expect(e.file).toBe(fixture('hostile/truncated-legacy/pytorch_model.bin'));
    expect(e.location).toMatch(/^byte \d+$/);
    const size = readFileSync(fixture('hostile/truncated-legacy/pytorch_model.bin')).length;
    expect(e.message).toMatch(new RegExp(`the file is truncated: storage \\d+ needs \\d+ × 4 bytes from byte \\d+, but the file ends at byte ${size}$`));
  });
});

describe('every cut point', () => {
  const cuts = (n: number) => [...Array(n).keys()].filter((i) => i < 512 || i % 11 === 0);

  it.each([
    ['legacy', legacyBytes],
    ['zip', zipBytes],
  ])('%s: every prefix is a located SMC5041', T, (_fmt, bytes) => {
    for (const cut of cuts(bytes.length)) {
      const e = error(() => readWeights(new FileBytes('cut.bin', bytes.subarray(0, cut))));
      expect(e.code, `cut at ${cut}`).toBe('SMC5041');
      expect(e.file).toBe('cut.bin');
      expect(e.location ?? '', `cut at ${cut}: ${e.message}`).toMatch(/byte \d+/);
    }
  });

  it('a cut inside the legacy state-dict pickle is located at the end of the file', T, () => {
    const e = error(() => readWeights(new FileBytes('cut.bin', legacyBytes.subarray(0, 400))));
    expect(e.location).toBe('byte 400');
    expect(e.message).toContain('its pickle ends before its STOP opcode');
  });
});

describe('claims beyond the file', () => {
  it('zip: a storage that claims more elements than its entry holds', T, () => {
    const bad = patch(zipBytes, 'cpuq\x07M\x40\x01t', 'cpuq\x07M\xff\xfft');
    const e = error(() => readWeights(new FileBytes('big.bin', bad)));
    expect(e.code).toBe('SMC5041');
    expect(e.location).toMatch(/^zip entry archive\/data\.pkl @ byte \d+$/);
    expect(e.message).toContain('storage 0 claims 65535 float32 elements (262140 bytes) but zip entry archive/data/0 holds 1280 bytes');
  });

  it('zip: a tensor view that reaches past its storage names the tensor', T, () => {
    const bad = patch(zipBytes, 'QK\x00K(K\x08\x86', 'QK\x00K)K\x08\x86');
    const e = error(() => readWeights(new FileBytes('view.bin', bad)));
    expect(e.code).toBe('SMC5041');
    expect(e.offending).toBe('bert.embeddings.word_embeddings.weight');
    expect(e.message).toContain('tensor `bert.embeddings.word_embeddings.weight` (shape [41, 8], offset 0, stride [8, 1]) reaches element 327 of storage 0, which holds 320');
  });

  it('legacy: a storage whose tensors claim more than its record holds', T, () => {
    const bad = patch(legacyBytes, 'cpuq\x07M\x40\x01N', 'cpuq\x07M\x90\x01N');
    const e = error(() => readWeights(new FileBytes('claim.bin', bad)));
    expect(e.code).toBe('SMC5041');
    expect(e.message).toMatch(/storage \d+ holds 320 elements but its tensors claim 400/);
  });

  it('legacy: an element count of 2^40 is a truncated file, not a 4 TiB allocation', T, () => {
    const keyList = legacyBytes.indexOf(Buffer.from('\x80\x02]q\x00(', 'latin1'));
    const keysEnd = legacyBytes.indexOf(Buffer.from('e.', 'latin1'), keyList) + 2; // APPENDS STOP ends the key list
    const bad = Buffer.from(legacyBytes);
    bad.writeBigUInt64LE(1n << 40n, keysEnd);
    const e = error(() => readWeights(new FileBytes('count.bin', bad)));
    expect(e.code).toBe('SMC5041');
    expect(e.location).toBe(`byte ${keysEnd}`);
    expect(e.message).toContain('the file is truncated: storage');
  });

  it.each([
    ['2^20 × 8 elements (a stride-0 view) exceed what the file can hold', 'J\x00\x00\x10\x00K\x08\x86q\tK\x00K\x01\x86', 'claim more than'],
    ['2^30 × 8 elements overflow', 'J\x00\x00\x00\x40K\x08\x86q\tK\x00K\x01\x86', 'more than 2^31 elements'],
  ])('legacy: a huge shape is refused before allocating: %s', T, (_what, size, msg) => {
    const at = legacyBytes.indexOf(Buffer.from('QK\x00K(K\x08\x86q\tK\x08K\x01\x86', 'latin1'));
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.concat([legacyBytes.subarray(0, at + 3), Buffer.from(size, 'latin1'), legacyBytes.subarray(at + 15)]);
    const e = error(() => readWeights(new FileBytes('wide.bin', bad)));
    expect(e.code).toBe('SMC5041');
    expect(e.offending).toBe('bert.embeddings.word_embeddings.weight');
    expect(e.message).toContain(msg);
  });
});

describe('not a checkpoint', () => {
  it.each([
    ['empty', Buffer.alloc(0), 'SMC5041', 'the file is empty'],
    ['an HTML page', Buffer.from('<!DOCTYPE html><html>rate limited</html>'), 'SMC5041', 'not a PyTorch checkpoint or safetensors file'],
    ['a Git LFS pointer', Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 440473133\n'), 'SMC5041', 'not a PyTorch checkpoint'],
    ['a tar checkpoint', Buffer.concat([Buffer.alloc(257), Buffer.from('ustar'), Buffer.alloc(250)]), 'SMC5043', 'a tar checkpoint'],
    ['a pickle that is not torch’s', Buffer.from('\x80\x02}q\x00.', 'latin1'), 'SMC5041', 'magic number'],
  ])('%s', T, (_what, bytes, code, msg) => {
    const e = error(() => readWeights(new FileBytes('pytorch_model.bin', bytes)));
    expect(e.code).toBe(code);
    expect(e.message).toContain(msg);
  });

  it('a missing folder, a folder without config.json or without weights', T, () => {
    expect(error(() => readHfBertFolder(fixture('no-such-folder')))).toMatchObject({ code: 'SMC5040' });
    expect(error(() => readHfBertFolder(fixture('dtypes')))).toMatchObject({ code: 'SMC5040' });
    expect(error(() => readWeightsFile(fixture('no-such-file.bin')))).toMatchObject({ code: 'SMC5040' });
  });

  it('a truncated safetensors file', T, () => {
    const st = readFileSync(fixture('tiny-safetensors/model.safetensors'));
    const e = error(() => readWeights(new FileBytes('model.safetensors', st.subarray(0, st.length - 100))));
    expect(e.code).toBe('SMC5041');
    expect(e.message).toContain('model.safetensors');
  });
});

describe('hostile safetensors headers', () => {
  const st = (header: unknown, data = 8) => {
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return new FileBytes('model.safetensors', Buffer.concat([len, h, Buffer.alloc(data)]));
  };
  it.each([
    ['a negative shape', { a: { dtype: 'F32', shape: [-1], data_offsets: [4, 0] } }, 'has shape [-1]'],
    ['offsets past the data', { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 'needs data bytes up to 16, the file holds 8'],
    ['reversed offsets', { a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, 'has data offsets [8,4]'],
    ['an entry that is not an object', { a: 3 }, 'a header entry without a dtype'],
    ['an F16 tensor (unsupported there)', { a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 'has dtype F16'],
  ])('%s', T, (_what, header, msg) => {
    const e = error(() => readWeights(st(header)));
    expect(['SMC5041', 'SMC5043']).toContain(e.code);
    expect(e.message).toContain('model.safetensors');
    expect(e.message).toContain(msg);
  });
});

describe('random damage', () => {
  // Flips land in the first 6000 bytes: the pickles, the zip's data.pkl, the safetensors header.
  const damaged = (bytes: Buffer) =>
    fc.array(fc.tuple(fc.nat(Math.min(bytes.length, 6000) - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => {
      const b = Buffer.from(bytes);
      for (const [i, v] of flips) b[i] = v;
      return b;
    });

  it.each([
    ['legacy', legacyBytes, 'damaged.bin'],
    ['zip', zipBytes, 'damaged.bin'],
    ['safetensors', readFileSync(fixture('tiny-safetensors/model.safetensors')), 'damaged.safetensors'],
  ])('%s: damaged bytes load or give a WeightsError, quickly', T, (_fmt, bytes, label) => {
    fc.assert(
      fc.property(damaged(bytes), (b) => {
        const t0 = performance.now();
        try {
          readWeights(new FileBytes(label, b));
        } catch (e) {
          if (!(e instanceof WeightsError)) throw e;
        }
        expect(performance.now() - t0).toBeLessThan(500);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
