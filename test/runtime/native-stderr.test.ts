// Dawn's native noise is kept out of the user's stderr (a terminal, a shell pipe or a file), everything else that
// is written meanwhile comes through in order, and SMCIRC_DEBUG=1 shows the noise too.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../e2e/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'smcirc-stderr-'));
const script = join(tmp, 'native.mjs');
const NOISE = 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';
writeFileSync(
  script,
  [
    `import { writeSync } from 'node:fs';`,
    `import { filterNativeStderr } from ${JSON.stringify(join(ROOT, 'dist/runtime/gpu/native-stderr.js'))};`,
    `process.stderr.write('before\\n');`,
    `const r = await filterNativeStderr(async () => {`,
    `  writeSync(2, ${JSON.stringify(`${NOISE}\n`)});`, // what dawn.node writes natively, straight to fd 2
    `  writeSync(2, 'Warning: a driver message worth reading\\n');`,
    `  process.stderr.write('js line\\n');`,
    `  return 42;`,
    `});`,
    `process.stderr.write('after ' + r + '\\n');`,
  ].join('\n'),
);

const bash = (cmd: string, env: Record<string, string> = {}) =>
  spawnSync('bash', ['-c', cmd], { cwd: tmp, encoding: 'utf8', env: { ...process.env, SMCIRC_DEBUG: '', ...env } });

describe('native stderr filter', () => {
  test('through a shell pipe: the noise is dropped, the rest kept in order', () => {
    const r = bash(`${JSON.stringify(process.execPath)} native.mjs 2>&1 >/dev/null | cat`);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('before\nWarning: a driver message worth reading\njs line\nafter 42\n');
  });

  test('into a file: the same, and the file is appended to, not overwritten', () => {
    const r = bash(`${JSON.stringify(process.execPath)} native.mjs 2>err.txt`);
    expect(r.status).toBe(0);
    expect(readFileSync(join(tmp, 'err.txt'), 'utf8')).toBe('before\nWarning: a driver message worth reading\njs line\nafter 42\n');
  });

  test('SMCIRC_DEBUG=1 shows everything', () => {
    const r = bash(`${JSON.stringify(process.execPath)} native.mjs 2>&1 >/dev/null | cat`, { SMCIRC_DEBUG: '1' });
    expect(r.stdout).toContain(NOISE);
    expect(r.stdout).toContain('after 42');
  });
});
