// The CLI on the GPU backend (lavapipe in CI): training agrees with the reference backend, bundles carry the
// kernels, and a bundle with an edited kernel is refused. Without an adapter these tests say why and skip
// (and fail under SMCIRC_REQUIRE_GPU=1).

import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { manifestDigest, sha256 } from '../../runtime/abi/manifest.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { gpuSkipReason } from '../helpers/gpu-gate.js';
import { noStackTrace, smcirc } from './cli.js';

const reason = await gpuSkipReason('GPU end-to-end tests');
const tmp = mkdtempSync(join(tmpdir(), 'smcirc-gpu-'));

const epochLine = (dir: string) => {
  const m = /epoch 1: train loss (\d+\.\d+), valid L1 (\d+\.\d+)/.exec(readFileSync(join(dir, 'log.txt'), 'utf8'));
  return m ? [Number(m[1]), Number(m[2])] : [];
};

describe.skipIf(!!reason)('GPU backend through the CLI', () => {
  test('a short training run matches the reference backend', async () => {
    const gpu = join(tmp, 'gpu');
    const ref = join(tmp, 'ref');
    const dump = join(tmp, 'wgsl');
    // --validate checks the first step and forward kernel by kernel against the interpreter
    const a = await smcirc(['train', 'specs/smcir-tiny.smcir', '--backend', 'gpu', '--max-steps', '6', '--out', gpu, '--quiet', '--validate', '--dump-wgsl', dump], { stderrFile: join(tmp, 'gpu-stderr.txt') });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe(''); // --quiet, and no Dawn noise (lavapipe's limit warnings) in a redirected stderr
    expect(readdirSync(join(dump, 'train_step')).filter((f) => f.endsWith('.wgsl')).length).toBeGreaterThan(50);
    expect((await smcirc(['train', 'specs/smcir-tiny.smcir', '--backend', 'reference', '--max-steps', '6', '--out', ref, '--quiet'])).code).toBe(0);
    const [gl, gv] = epochLine(gpu);
    const [rl, rv] = epochLine(ref);
    expect(Math.abs(gl! - rl!)).toBeLessThan(2e-4);
    expect(Math.abs(gv! - rv!)).toBeLessThan(2e-4);
    const e = await smcirc(['eval', gpu, '--backend', 'gpu', '--conditions', 'LVA']);
    expect(e.code, e.stderr).toBe(0);
    const r = await smcirc(['eval', gpu, '--backend', 'reference', '--conditions', 'LVA']);
    // same weights, two backends: the metrics agree to the printed precision but for rounding at the last place
    const num = (s: string) => s.split('\n')[1]!.trim().split(/\s+/).slice(1, 9).map(Number);
    num(e.stdout).forEach((v, i) => expect(Math.abs(v - num(r.stdout)[i]!)).toBeLessThanOrEqual(0.0157));
  });

  test('the paper variant (temporal attention, joint-histogram MI, softmax-norm entropy, diagonal cosine) agrees too', async () => {
    const gpu = join(tmp, 'paper-gpu');
    const ref = join(tmp, 'paper-ref');
    const a = await smcirc(['train', 'specs/smcir-paper-tiny.smcir', '--backend', 'gpu', '--max-steps', '4', '--out', gpu, '--quiet', '--validate']);
    expect(a.code, a.stderr).toBe(0);
    expect((await smcirc(['train', 'specs/smcir-paper-tiny.smcir', '--backend', 'reference', '--max-steps', '4', '--out', ref, '--quiet'])).code).toBe(0);
    const [gl, gv] = epochLine(gpu);
    const [rl, rv] = epochLine(ref);
    expect(Math.abs(gl! - rl!)).toBeLessThan(2e-4);
    expect(Math.abs(gv! - rv!)).toBeLessThan(2e-4);
  });

  test('the whole model with BERT from token ids (smcir-bert-tiny) agrees with the reference backend, kernel by kernel', async () => {
    const gpu = join(tmp, 'bert-gpu');
    const ref = join(tmp, 'bert-ref');
    const a = await smcirc(['train', 'specs/smcir-bert-tiny.smcir', '--backend', 'gpu', '--max-steps', '4', '--out', gpu, '--quiet', '--validate']);
    expect(a.code, a.stderr).toBe(0);
    expect((await smcirc(['train', 'specs/smcir-bert-tiny.smcir', '--backend', 'reference', '--max-steps', '4', '--out', ref, '--quiet'])).code).toBe(0);
    const [gl, gv] = epochLine(gpu);
    const [rl, rv] = epochLine(ref);
    expect(Math.abs(gl! - rl!)).toBeLessThan(2e-4);
    expect(Math.abs(gv! - rv!)).toBeLessThan(2e-4);
  });

  test('a bundle compiled without Vulkan trains from its own kernels: an edit consistent with its hash takes effect, others are refused', async () => {
    const bundle = join(tmp, 'bundle');
    // compiling needs no device: a Vulkan loader pointed at no driver changes nothing
    const noVulkan = { VK_ICD_FILENAMES: join(tmp, 'no-driver.json'), VK_DRIVER_FILES: join(tmp, 'no-driver.json') };
    const c = await smcirc(['compile', 'specs/smcir-tiny.smcir', '-o', bundle], { env: noVulkan });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toBe('');
    expect(c.stdout).toMatch(/\d+ kernels, \d+ dispatches per train step \(target: default \(WebGPU default limits\)\)/);
    const manifestPath = join(bundle, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const kernels = readdirSync(join(bundle, 'kernels'));
    expect(kernels.length).toBe(manifest.programs.train_step.kernels.length + manifest.programs.forward.kernels.length);
    expect(readFileSync(join(bundle, 'model.js'), 'utf8').split('\n')[0]).toMatch(/^\/\/ Generated by smcirc/);
    const trainLoss = async (b: string, out: string): Promise<number> => {
      const r = await smcirc(['train', b, '--max-steps', '2', '--max-epochs', '1', '--out', join(tmp, out)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('the bundle’s own kernels');
      return Number(/epoch 1: train loss (\d+\.\d+)/.exec(readFileSync(join(tmp, out, 'log.txt'), 'utf8'))![1]);
    };
    const base = await trainLoss(bundle, 'from-bundle');
    // a copy whose L1 loss kernel takes the mean over half the batch (×1/8 instead of ×1/16), hashes updated:
    // the loss the run reports doubles, so the bundle's kernels are what runs
    const copy = join(tmp, 'bundle-edited-kernel');
    cpSync(bundle, copy, { recursive: true });
    const k = manifest.programs.train_step.kernels.find((x: { name: string }) => x.name.startsWith('loss/mul+sum+abs+sub'));
    const text = readFileSync(join(copy, k.file), 'utf8');
    expect(text).toContain('* 0.0625;');
    writeFileSync(join(copy, k.file), text.replace('* 0.0625;', '* 0.125;'));
    k.sha256 = sha256(readFileSync(join(copy, k.file), 'utf8'));
    manifest.manifest_sha256 = manifestDigest(manifest);
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest));
    expect(await trainLoss(copy, 'from-edited')).toBeCloseTo(2 * base, 3);
    // one changed character in one kernel, hash not updated: refused
    writeFileSync(join(copy, k.file), text.replace('fn main', 'fn  main'));
    const bad = await smcirc(['train', copy, '--max-steps', '2', '--out', join(tmp, 'refused'), '--quiet']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error SMC5035');
    expect(bad.stderr).toContain('was changed after compiling');
    expect(noStackTrace(bad.stderr)).toBe(true);
    // a setting changed in the manifest without its hash: refused
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace(/"early_stop": \d+/, '"early_stop": 99'));
    const edited = await smcirc(['train', bundle, '--max-steps', '1', '--out', join(tmp, 'refused2'), '--quiet']);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('error SMC5037');
  });

  test('a bundle compiled for more than this adapter offers is refused naming the limit; --recompile trains it here', async () => {
    const limits = join(tmp, 'huge-limits.json');
    writeFileSync(limits, JSON.stringify({ adapter: 'imaginary', limits: { maxComputeWorkgroupStorageSize: 1 << 30 } }));
    const bundle = join(tmp, 'bundle-huge');
    const c = await smcirc(['compile', 'specs/smcir-tiny.smcir', '-o', bundle, '--target', limits]);
    expect(c.code, c.stderr).toBe(0);
    const r = await smcirc(['train', bundle, '--max-steps', '1', '--out', join(tmp, 'huge'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SMC4003: the bundle was compiled for maxComputeWorkgroupStorageSize = 1073741824; this adapter .* offers \d+/m);
    expect(r.stderr).toContain('--recompile');
    const again = await smcirc(['train', bundle, '--recompile', '--max-steps', '1', '--max-epochs', '1', '--out', join(tmp, 'recompiled'), '--quiet']);
    expect(again.code, again.stderr).toBe(0);
  });

  test('profile lists per-kernel timings of one train step', async () => {
    const r = await smcirc(['profile', 'specs/smcir-tiny.smcir', '--top', '5']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^train step: \d+ dispatches, \d+\.\d+ ms summed over kernels \((timestamp|wall) timing\)/);
    expect(lines.length).toBe(8);
    for (const l of lines.slice(1, 6)) expect(l).toMatch(/^\s*\d+\.\d{3} ms\s+\d+\.\d%\s+\S/);
    // one line per route: the kernels of a generator ran to the flagged count's share of their items
    for (const l of lines.slice(6)) {
      const m = /^sample routing: route \d \(cmcg\.\S*\): (\d+) of (\d+) samples flagged; \d+ dispatches ran (\d+) of (\d+) items$/.exec(l);
      expect(m, l).not.toBeNull();
      const [count, batch, ran, full] = m!.slice(1).map(Number) as [number, number, number, number];
      expect(ran * batch).toBe(full * count);
    }
    const plain = await smcirc(['profile', 'specs/smcir-tiny.smcir', '--top', '5', '--no-route']);
    expect(plain.stdout.trim().split('\n').at(-1)).toMatch(/^sample routing: none/);
  });

  test('a bundle of another ABI version is refused', async () => {
    const bundle = join(tmp, 'bundle-abi');
    expect((await smcirc(['compile', 'specs/smcir-tiny.smcir', '-o', bundle])).code).toBe(0);
    const p = join(bundle, 'manifest.json');
    writeFileSync(p, readFileSync(p, 'utf8').replace('"abi": 2', '"abi": 99'));
    const r = await smcirc(['train', bundle, '--max-steps', '1', '--out', join(tmp, 'abi'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error SMC5032: the bundle has ABI version 99; this smcirc runs version 2');
  });
});
