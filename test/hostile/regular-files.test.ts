// Hostile input, item 2: only regular files are read — specs, imports and data are checked with `stat` before they are
// opened (a FIFO would block, /dev/zero never ends, /proc files claim size 0) — and imports stay inside the project.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { capped, encodePickle, expectCoded, mmsaValue, ROOT, tempDir } from './helpers.js';

const dir = tempDir('files');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A project of its own (a .git folder marks its top), with specs in a sub-folder.
const project = join(dir, 'project');
mkdirSync(join(project, '.git'), { recursive: true });
mkdirSync(join(project, 'specs', 'ablations'), { recursive: true });
const write = (rel: string, text: string | Uint8Array): string => {
  const p = join(project, rel);
  writeFileSync(p, text);
  return p;
};
const fifo = (rel: string): string => {
  const p = join(project, rel);
  execFileSync('mkfifo', [p]);
  return p;
};
const MODEL = 'dim B\ninput x: [B, 4]\nmodel M {\n  lin = Linear(4, 1)\n  forward(x) { output pred = lin(x)[:, 0] }\n}\ntrain { loss = l1(pred, pred) }\n';
const TINY = join(ROOT, 'specs/smcir-tiny.smcir');

describe.concurrent('specs and imports', () => {
  test('import "/dev/zero": refused before it is opened (SMC2021), in bounded time', async () => {
    const r = await capped(['check', write('specs/dev-zero.smcir', `import "/dev/zero"\n${MODEL}`)]);
    expectCoded(r, 'SMC2021');
    expect(r.stderr).toMatch(/dev-zero\.smcir:1:1: error SMC2021: `\/dev\/zero` is outside the project/);
  });

  test('a FIFO as an import or as the spec: SMC2022, without blocking', async () => {
    fifo('specs/pipe.smcir');
    const r = await capped(['check', write('specs/imports-pipe.smcir', `import "pipe.smcir"\n${MODEL}`)]);
    expectCoded(r, 'SMC2022');
    expect(r.stderr).toContain('`pipe.smcir` is a FIFO (named pipe), not a spec file; it was not opened');
    const r2 = await capped(['check', join(project, 'specs/pipe.smcir')]);
    expectCoded(r2, 'SMC2022');
  });

  test('a folder, a /proc file and a device as the spec: SMC2022', async () => {
    mkdirSync(join(project, 'specs/folder.smcir'), { recursive: true });
    for (const p of [join(project, 'specs/folder.smcir'), '/proc/self/status', '/dev/zero']) {
      const r = await capped(['check', p]);
      expectCoded(r, 'SMC2022');
    }
  });

  test('import "/etc/passwd" is refused without echoing a line of it', async () => {
    const r = await capped(['check', write('specs/passwd.smcir', `import "/etc/passwd"\n${MODEL}`)]);
    expectCoded(r, 'SMC2021');
    expect(r.stderr).not.toMatch(/root:|:x:0:0|\/bin\/(ba)?sh/);
    expect(r.stderr).toContain('SMCIRC_ALLOW_IMPORT_OUTSIDE=1');
  });

  test('../ out of the project, and a link that points outside, are refused (SMC2021)', async () => {
    const outside = join(dir, 'outside.smcir');
    writeFileSync(outside, 'const secret = 1\n');
    const r = await capped(['check', write('specs/up.smcir', `import "../../outside.smcir"\n${MODEL}`)]);
    expectCoded(r, 'SMC2021');
    symlinkSync(outside, join(project, 'specs/link.smcir'));
    const r2 = await capped(['check', write('specs/via-link.smcir', `import "link.smcir"\n${MODEL}`)]);
    expectCoded(r2, 'SMC2021');
    // a non-.smcir file inside the project is refused too
    write('notes.txt', 'const a = 1\n');
    const r3 = await capped(['check', write('specs/txt.smcir', `import "../notes.txt"\n${MODEL}`)]);
    expectCoded(r3, 'SMC2021');
    expect(r3.stderr).toContain('is not a .smcir file');
  });

  test('inside the project (up to its .git) and smcirc’s own specs/ are allowed; the env var lifts the rule', async () => {
    write('specs/base.smcir', MODEL);
    const ok = await capped(['check', write('specs/ablations/variant.smcir', `import "../base.smcir"\nconst _extra = 1\n`)]);
    expect(ok.stderr).not.toContain('SMC2021');
    expect(ok.code).toBe(0);
    const builtin = await capped(['check', write('specs/on-tiny.smcir', `import "${TINY}"\nconst eta = 0.5\n`)]);
    expect(builtin.code, builtin.stderr).toBe(0);
    const outside = join(dir, 'outside2.smcir');
    writeFileSync(outside, MODEL);
    const allowed = await capped(['check', write('specs/allowed.smcir', `import "${outside}"\n`)], { env: { SMCIRC_ALLOW_IMPORT_OUTSIDE: '1' } });
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  test('the run folder copy of a spec still imports its neighbours (run.json marks the top)', async () => {
    const run = join(dir, 'run-copy');
    mkdirSync(join(run, 'spec', 'ablations'), { recursive: true });
    writeFileSync(join(run, 'run.json'), '{}');
    writeFileSync(join(run, 'spec', 'base.smcir'), MODEL);
    writeFileSync(join(run, 'spec', 'ablations', 'v.smcir'), 'import "../base.smcir"\n');
    const r = await capped(['check', join(run, 'spec', 'ablations', 'v.smcir')]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe.concurrent('data paths', () => {
  test('--data onto a FIFO or /dev/zero: SMC6006 before opening (no hang)', async () => {
    const pipe = fifo('data.pkl');
    for (const p of [pipe, '/dev/zero']) {
      const r = await capped(['train', TINY, '--data', p, '--backend', 'reference', '--max-steps', '1', '--out', join(dir, `never-${p.length}`)]);
      expectCoded(r, 'SMC6006');
    }
  });

  test('data convert from /proc or a FIFO: SMC6006; into /proc/foo: a coded error, not a spin', async () => {
    const r = await capped(['data', 'convert', '/proc/self/status', join(dir, 'conv-a')]);
    expectCoded(r, 'SMC6006');
    expect(r.stderr).toContain('/proc/self/status is a file of the proc pseudo file system, not a data file; it was not opened');
    const r2 = await capped(['data', 'convert', fifo('conv.pkl'), join(dir, 'conv-b')]);
    expectCoded(r2, 'SMC6006');
    const good = write('good.pkl', encodePickle(mmsaValue()));
    const r3 = await capped(['data', 'convert', good, '/proc/foo']);
    expectCoded(r3, 'SMC5050');
    expect(r3.stderr).toContain('cannot create the folder /proc/foo');
  });
});
