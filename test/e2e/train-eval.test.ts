// compile → train → eval → diagnose on smcir-tiny through the real CLI (reference backend, a few steps), plus
// resume after a kill, a NaN stop, determinism of evaluation, and refusal of a changed bundle.

import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { readSafetensors } from '../../runtime/train/safetensors.js';
import { node, noStackTrace, ROOT, smcirc, smcircBackground } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'smcirc-e2e-'));
const run = join(tmp, 'run');
const REF = ['--backend', 'reference'];

describe('train → eval → diagnose (reference backend)', () => {
  beforeAll(async () => {
    const r = await smcirc(['train', 'specs/smcir-tiny.smcir', ...REF, '--out', run, '--max-epochs', '2', '--seed', '1111', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(run);
  });

  test('the run folder has the spec, hyperparameters, log, checkpoints and results', async () => {
    for (const f of ['run.json', 'hyperparameters.json', 'log.txt', 'results.json', 'results.csv', 'spec/smcir-tiny.smcir', 'spec/smcir.smcir', 'seed-1111/best.safetensors', 'seed-1111/last.safetensors', 'seed-1111/results.json']) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    const ck = readSafetensors(join(run, 'seed-1111/best.safetensors'));
    expect(ck.tensors.get('head.out_proj.weight')!.shape).toEqual([1, 8]);
    expect(ck.metadata.format).toBe('pt');
    // the metadata numbers epochs as the log does (1-based) and names the run's own copy of the spec, relatively
    const bestLine = /seed 1111: best epoch (\d+)/.exec(readFileSync(join(run, 'log.txt'), 'utf8'));
    expect(ck.metadata.epoch).toBe(bestLine?.[1]);
    expect(ck.metadata.spec).toBe('../spec/smcir-tiny.smcir');
    expect(existsSync(join(run, 'seed-1111', ck.metadata.spec!))).toBe(true);
    // provenance: what was actually used
    const manifest = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    expect(manifest.backend).toBe('reference');
    expect(manifest.adapter).toBe('CPU reference interpreter (f32)');
    expect(manifest.smcirc).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(manifest.command).toEqual(['train', 'specs/smcir-tiny.smcir', '--backend', 'reference', '--out', run, '--max-epochs', '2', '--seed', '1111', '--quiet']);
    expect(manifest.constants.eta).toBe(0.6);
    expect(manifest.constants.d_L).toBe(16);
    expect(manifest.settings.train.max_epochs).toBe(2); // after --max-epochs, not the spec's 12
    expect(manifest.settings.train.seeds).toEqual([1111]);
    expect(manifest.spec_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.data_report.format).toBe('synthetic');
    const last = readSafetensors(join(run, 'seed-1111/last.safetensors'));
    expect(last.tensors.has('adam.m.head.out_proj.weight')).toBe(true);
    expect(readFileSync(join(run, 'results.csv'), 'utf8').split('\n')[0]).toBe('seed,condition,Has0_acc_2,Has0_F1_score,Non0_acc_2,Non0_F1_score,Mult_acc_5,Mult_acc_7,MAE,Corr,flagged_vision,flagged_audio,flagged_both');
    expect(readFileSync(join(run, 'log.txt'), 'utf8')).toMatch(/epoch 2: train loss \d+\.\d{4}, valid L1/);
    // history: a row per step and per epoch, the epochs' validation L1 as the log's
    const epochs = readFileSync(join(run, 'seed-1111/history-epochs.csv'), 'utf8').trim().split('\n');
    expect(epochs[0]).toBe('epoch,step,train_loss,valid_l1,valid_Has0_acc_2,valid_Has0_F1_score,valid_Non0_acc_2,valid_Non0_F1_score,valid_Mult_acc_5,valid_Mult_acc_7,valid_MAE,valid_Corr,flag_v,flag_a,best,seconds,samples_per_s');
    expect(epochs).toHaveLength(3);
    const log = readFileSync(join(run, 'log.txt'), 'utf8');
    for (const line of epochs.slice(1)) {
      const [epoch, step, , l1] = line.split(',');
      expect(Number(step)).toBe(16 * Number(epoch));
      expect(log).toContain(`epoch ${epoch}: train loss`);
      expect(log).toMatch(new RegExp(`epoch ${epoch}: .*valid L1 ${Number(l1).toFixed(4)}`));
    }
    expect(readFileSync(join(run, 'seed-1111/history-steps.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 32);
    // DMFD's decisions on the test split per condition: the scores named by their block, states, planted truth
    const scores = readFileSync(join(run, 'seed-1111/dmfd-scores.csv'), 'utf8').trim().split('\n');
    expect(scores[0]).toBe('id,condition,dmfd.rule_v,dmfd.rule_a,state_v,state_a,true_missing_v,true_missing_a,pred,label');
    expect(scores).toHaveLength(1 + 64 * 4);
    const thresholds = JSON.parse(readFileSync(join(run, 'seed-1111/dmfd-thresholds.json'), 'utf8'));
    expect(Object.keys(thresholds)).toEqual(['LVA', 'L', 'LV', 'LA']);
    expect(thresholds.LVA['dmfd.rule_v'].std).toBeGreaterThan(0);
  });

  test('eval prints MMSA metrics per condition and writes JSON', async () => {
    const json = join(tmp, 'eval.json');
    const r = await smcirc(['eval', run, ...REF, '--conditions', 'L,LV,LA,LVA', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^condition\s+Has0_acc_2\s+Has0_F1_score\s+Non0_acc_2/);
    const res = JSON.parse(readFileSync(json, 'utf8'));
    expect(res.conditions.map((c: { condition: string }) => c.condition)).toEqual(['L', 'LV', 'LA', 'LVA']);
    expect(res.conditions[3].metrics.Corr).toBeGreaterThan(0.3);
  });

  test('evaluation does not depend on the batch size with population DMFD statistics', async () => {
    const a = join(tmp, 'a.json');
    const b = join(tmp, 'b.json');
    expect((await smcirc(['eval', run, ...REF, '--batch-size', '7', '--json', a])).code).toBe(0);
    expect((await smcirc(['eval', run, ...REF, '--batch-size', '16', '--json', b])).code).toBe(0);
    const pick = (f: string) => JSON.parse(readFileSync(f, 'utf8')).conditions;
    expect(pick(a)).toEqual(pick(b));
  });

  test('diagnose writes per-sample states and scores the flags against planted missingness', async () => {
    const csv = join(tmp, 'states.csv');
    const json = join(tmp, 'diagnose.json');
    const r = await smcirc(['diagnose', run, ...REF, '--csv', csv, '--conditions', 'LVA,LA', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^LVA: flagged missing: V \d+\.\d% {2}A \d+\.\d% {2}both \d+\.\d%/m);
    expect(r.stdout).toMatch(/^LA: flagged missing/m);
    expect(r.stdout).toMatch(/vision vs planted: precision \d\.\d{3} {2}recall \d\.\d{3}/);
    // the statistics are named by the block that computes them, not __stat0…
    expect(r.stdout).toMatch(/^ {2}dmfd\.rule_v: mean \d+\.\d{4} {2}std \d+\.\d{4}$/m);
    expect(r.stdout).not.toContain('__stat');
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(Object.keys(j.statistics.LVA)).toEqual(['dmfd.rule_v', 'dmfd.rule_a']);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,condition,dmfd.rule_v,dmfd.rule_a,state_v,state_a,true_missing_v,true_missing_a,pred,label');
    expect(lines.length).toBe(1 + 2 * 64);
    for (const l of lines.slice(1)) expect(['0', '1', '2']).toContain(l.split(',')[4]);
  });
});

test('several seeds end with a mean ± std table', async () => {
  const out = join(tmp, 'seeds');
  const r = await smcirc(['train', 'specs/smcir-tiny.smcir', ...REF, '--out', out, '--seeds', '1111-1112', '--max-epochs', '1']);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('mean ± std over 2 seeds');
  expect(r.stderr).toMatch(/^LVA\s+\d+\.\d{3} ± \d+\.\d{3}/m);
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  expect(res.seeds.map((s: { seed: number }) => s.seed)).toEqual([1111, 1112]);
  expect(res.mean_std.LVA.Corr.std).toBeGreaterThanOrEqual(0);
  expect(readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n').length).toBe(1 + 2 * 4);
  // eval of the run evaluates every seed and prints mean ± std of all eight metrics; --seed picks one
  const all = await smcirc(['eval', out, ...REF, '--conditions', 'LVA', '--json', join(tmp, 'seeds.json'), '--mmsa-csv', join(tmp, 'mmsa.csv')]);
  expect(all.code, all.stderr).toBe(0);
  expect(all.stdout).toContain('mean ± std over seeds 1111, 1112');
  expect(all.stdout).toMatch(/Mult_acc_5/);
  const j = JSON.parse(readFileSync(join(tmp, 'seeds.json'), 'utf8'));
  expect(j.seeds.map((x: { seed: number }) => x.seed)).toEqual([1111, 1112]);
  expect(j.mean_std.LVA.Corr).toEqual(res.mean_std.LVA.Corr); // the same numbers as training's own test evaluation
  expect(readFileSync(join(tmp, 'mmsa.csv'), 'utf8').split('\n')[1]).toMatch(/^smcir-tiny,"\(\d+\.\d+, \d+\.\d+\)"/);
  const one = await smcirc(['eval', out, ...REF, '--seed', '1112', '--conditions', 'LVA', '--json', join(tmp, 'seed1112.json')]);
  expect(one.code).toBe(0);
  expect(JSON.parse(readFileSync(join(tmp, 'seed1112.json'), 'utf8')).conditions[0].metrics).toEqual(res.seeds[1].conditions[0].metrics);
});

describe('robustness', () => {
  test('a NaN in training stops the run cleanly, naming epoch, step and batch', async () => {
    const out = join(tmp, 'nan');
    const r = await smcirc(['train', 'specs/smcir-tiny.smcir', ...REF, '--out', out, '--set', 'train.inject_nan_at_step=20', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error SMC5002: the loss became NaN at epoch 2, step 20, batch 4 of 16 \(seed 1111\)/);
    expect(r.stderr).toContain(join(out, 'seed-1111', 'last.safetensors'));
    expect(noStackTrace(r.stderr)).toBe(true);
    // the last good checkpoint (end of epoch 1; epochs are 1-based in checkpoints as in the log) is intact
    expect(readSafetensors(join(out, 'seed-1111/last.safetensors')).metadata.epoch).toBe('1');
  });

  test('two trainings into one folder: exactly one runs, the other stops naming the folder', async () => {
    const out = join(tmp, 'contended');
    const args = ['train', 'specs/smcir-tiny.smcir', ...REF, '--out', out, '--max-epochs', '1', '--quiet'];
    const [a, b] = await Promise.all([smcirc(args), smcirc(args)]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    expect(loser.stderr).toMatch(/^error SMC5017: .*contended (is in use by another smcirc train|already holds a run)/m);
    expect(noStackTrace(loser.stderr)).toBe(true);
    expect(existsSync(join(out, 'run.lock'))).toBe(false); // released by the winner
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).seeds).toHaveLength(1);
  });

  test('a run killed mid-training resumes from its last checkpoint', async () => {
    const out = join(tmp, 'killed');
    const child = smcircBackground(['train', 'specs/smcir-tiny.smcir', ...REF, '--out', out, '--max-epochs', '6', '--quiet']);
    // (run.json records --max-epochs, so the resume below stops at 6 as well)
    const last = join(out, 'seed-1111/last.safetensors');
    const t0 = Date.now();
    while (!existsSync(last) && Date.now() - t0 < 60_000) await new Promise((res) => setTimeout(res, 20));
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    const epochAtKill = Number(readSafetensors(last).metadata.epoch);
    // the history survives the kill: whole lines only, steps 1, 2, … with no gap
    const stepsCsv = join(out, 'seed-1111/history-steps.csv');
    const rows = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).slice(1).map((l) => l.split(','));
    const atKill = rows(stepsCsv);
    expect(atKill.length).toBeGreaterThanOrEqual(16 * epochAtKill);
    atKill.forEach((r, i) => {
      expect(r).toHaveLength(6);
      expect(Number(r[1])).toBe(i + 1);
      expect(Number.isFinite(Number(r[2]))).toBe(true);
    });
    // a temporary checkpoint of a process killed while writing (pid gone) is cleaned up by the resume
    const orphan = join(out, 'seed-1111/.last.safetensors.tmp-4194000');
    writeFileSync(orphan, 'partial');
    // no --backend: the run continues on the backend run.json recorded (reference), so it stays exact
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).backend).toBe('reference');
    const r = await smcirc(['train', '--resume', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('note:');
    expect(existsSync(orphan)).toBe(false);
    const log = readFileSync(join(out, 'log.txt'), 'utf8');
    expect(log).toContain(`resuming seed 1111 after epoch ${epochAtKill}`);
    expect(Number(readSafetensors(last).metadata.epoch)).toBeGreaterThan(epochAtKill);
    // resuming loses nothing: the results equal those of an uninterrupted run
    const whole = join(tmp, 'uninterrupted');
    expect((await smcirc(['train', 'specs/smcir-tiny.smcir', ...REF, '--out', whole, '--max-epochs', '6', '--quiet'])).code).toBe(0);
    expect(readFileSync(join(out, 'results.csv'), 'utf8')).toBe(readFileSync(join(whole, 'results.csv'), 'utf8'));
    // … and so does the history: the resumed run's steps and epochs equal the uninterrupted run's (timings apart)
    const noTiming = (f: string, timingCols: number) => rows(f).map((r) => r.slice(0, r.length - timingCols).join(','));
    expect(noTiming(stepsCsv, 1)).toEqual(noTiming(join(whole, 'seed-1111/history-steps.csv'), 1));
    expect(noTiming(join(out, 'seed-1111/history-epochs.csv'), 2)).toEqual(noTiming(join(whole, 'seed-1111/history-epochs.csv'), 2));
  });

  test('weights that diverge while the loss is still finite stop the run before a checkpoint is overwritten', async () => {
    const out = join(tmp, 'diverged');
    const r = await smcirc(['train', 'specs/smcir-tiny.smcir', ...REF, '--out', out, '--set', 'train.lr=1e38', '--max-steps', '1', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error SMC5002: the validation L1 became NaN after epoch 1 \(step 1, seed 1111\): the weights diverged/);
    expect(existsSync(join(out, 'seed-1111/last.safetensors'))).toBe(false);
  });

  test('a run folder is never overwritten, and a resume cannot change the run', async () => {
    const again = await smcirc(['train', 'specs/smcir-tiny.smcir', ...REF, '--out', run, '--max-steps', '1', '--quiet']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`error SMC5017: ${run} already holds a run`);
    const changed = await smcirc(['train', '--resume', run, ...REF, '--set', 'hidden2=4', '--quiet']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('--resume continues a run exactly as it was started');
  });

  test('a checkpoint is evaluated only with the spec it was trained with (unless --allow-other-spec)', async () => {
    // the run's own spec, edited in a copy: same parameter names and shapes, another spec
    const other = join(tmp, 'other-spec');
    cpSync(join(run, 'spec'), other, { recursive: true });
    const f = join(other, 'smcir-tiny.smcir');
    writeFileSync(f, `${readFileSync(f, 'utf8')}\n# edited\n`);
    const ck = join(run, 'seed-1111/best.safetensors');
    const refused = await smcirc(['eval', ck, ...REF, '--spec', f, '--conditions', 'LVA']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error SMC5018: .*best\.safetensors was trained with another spec/m);
    const allowed = await smcirc(['eval', ck, ...REF, '--spec', f, '--conditions', 'LVA', '--allow-other-spec']);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/^warning: .*trained with another spec/m);
    // the run folder itself, and the bare checkpoint with the run's own copy of the spec, are fine
    expect((await smcirc(['eval', ck, ...REF, '--spec', join(run, 'spec/smcir-tiny.smcir'), '--conditions', 'LVA'])).code).toBe(0);
  });

  test('explain knows runtime codes too', async () => {
    const r = await smcirc(['explain', 'SMC5011']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the disk is full');
    expect((await smcirc(['explain', 'SMC9999'])).code).toBe(2);
  });

  test('a corrupt data file gives a located error, not a stack trace', async () => {
    const bad = join(tmp, 'bad.pkl');
    writeFileSync(bad, Buffer.from([0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x7d]));
    const r = await smcirc(['train', 'specs/smcir-tiny.smcir', ...REF, '--data', bad, '--out', join(tmp, 'bad'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error SMC60\d\d/);
    expect(noStackTrace(r.stderr)).toBe(true);
  });
});

describe('bundles', () => {
  const bundle = join(tmp, 'bundle');
  beforeAll(async () => {
    const r = await smcirc(['compile', 'specs/smcir-tiny.smcir', '-o', bundle]);
    expect(r.code).toBe(0);
  });

  test('the generated JavaScript glue trains, and evaluates exactly as `smcirc eval`', async () => {
    const { createBundleRuntime } = await import('../../runtime/bundle/runtime.js');
    const { compileModel } = await import('../../compiler/compile.js');
    const { loadRunData } = await import('../../runtime/train/data-source.js');
    const { iterateBatches } = await import('../../runtime/data/index.js');
    const mod = await import(join(bundle, 'model.js'));
    const rt = await createBundleRuntime(bundle, { backend: 'reference' });
    const model = new mod.SmcirTinyModel(rt);
    const B = mod.SmcirTinyModel.trainBatchSize as number;
    const rnd = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
    const batch = { text: rnd(B * 8 * 16), vision: rnd(B * 12 * 6), audio: rnd(B * 10 * 4), label: rnd(B) };
    expect(Number.isFinite(await model.trainStep(batch, 1))).toBe(true);
    await expect(model.trainStep({ ...batch, text: new Float32Array(3) })).rejects.toThrow(/text: expected 2048 values/);
    await expect(model.forward(batch)).rejects.toThrow(/needs the DMFD population statistics __stat0/);
    // the trained run's weights on its test split: the glue's MAE equals the CLI's
    await model.loadWeights(join(run, 'seed-1111/best.safetensors'));
    const data = loadRunData(compileModel(join(bundle, 'spec/smcir-tiny.smcir')), undefined);
    const batches = [...iterateBatches(data.test, mod.SmcirTinyModel.forwardBatchSize, { dropLast: true })].map((b) => ({ text: b.text, vision: b.vision, audio: b.audio, label: b.labels }));
    const res = await model.evaluate(batches);
    expect(res.samples).toBe(64);
    const json = join(tmp, 'glue-eval.json');
    expect((await smcirc(['eval', run, ...REF, '--conditions', 'LVA', '--json', json])).code).toBe(0);
    expect(res.mae).toBeCloseTo(JSON.parse(readFileSync(json, 'utf8')).conditions[0].metrics.MAE, 4);
    // loading weights keeps the optimiser state: training continues from the loaded weights
    const before = (await rt.getState()).get('adam.step');
    expect(before).toBeDefined();
    expect(Number.isFinite(await model.trainStep(batch, 2))).toBe(true);
    expect((await rt.getState()).get('adam.step')![0]).toBe(before![0]! + 1);
    await rt.dispose();
  });

  test('a user script runs the bundle through the package export `smcirc/bundle`', async () => {
    const script = [
      "import { createBundleRuntime } from 'smcirc/bundle';",
      `const { SmcirTinyModel } = await import(${JSON.stringify(join(bundle, 'model.js'))});`,
      `const model = new SmcirTinyModel(await createBundleRuntime(${JSON.stringify(bundle)}, { backend: 'reference' }));`,
      'const B = SmcirTinyModel.trainBatchSize;',
      'const f = (n) => Float32Array.from({ length: n }, (_, i) => Math.cos(i));',
      'const loss = await model.trainStep({ text: f(B * 128), vision: f(B * 72), audio: f(B * 40), label: f(B) });',
      'console.log(Number.isFinite(loss) ? "ok" : "bad");',
    ].join('\n');
    const r = await node(['--input-type=module', '-e', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });

  test('a bundle whose spec was edited is refused', async () => {
    const copy = join(tmp, 'bundle-edited');
    expect((await smcirc(['compile', 'specs/smcir-tiny.smcir', '-o', copy])).code).toBe(0);
    const f = join(copy, 'spec/smcir-tiny.smcir');
    writeFileSync(f, readFileSync(f, 'utf8').replace('const eta = 0.6', 'const eta = 0.7'));
    const r = await smcirc(['train', copy, ...REF, '--max-steps', '1', '--quiet', '--out', join(tmp, 'x')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error SMC5034');
  });
});
