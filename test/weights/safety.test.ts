// No code from a checkpoint ever runs: every global outside the state-dict allowlist is refused BY NAME wherever it
// appears (top level, nested in a dict, inside a tensor's arguments, in a header pickle), before anything is built.
// Errors carry a code, the file and the byte; the CLI prints them without a stack trace.

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { reportError } from '../../cli/errors.js';
import { FileBytes, readHfBertFolder, readWeights, WeightsError } from '../../runtime/weights/index.js';
import { fixture, LEGACY_HEADER, pickle, uni, error } from './helpers.js';

const T = { timeout: 5_000 };
const PWNED = '/tmp/smcirc-pwned';


/** A legacy checkpoint whose state-dict pickle is `body` (then an empty key list). */
const legacy = (body: Uint8Array) => new FileBytes('hostile.bin', pickle(LEGACY_HEADER, body, '\x80\x02].'));

/** ('storage', torch.FloatStorage, '0', 'cpu', 1, None) as a BINPERSID. */
const PID = pickle('(', uni('storage'), 'ctorch\nFloatStorage\n', uni('0'), uni('cpu'), 'K\x01Nt', 'Q');
/** A state dict {'w': _rebuild_tensor_v2(<pid>, 0, (1,), (1,), False, <hooks>)} with `hooks` spliced in. */
const stateDict = (hooks: Uint8Array | string) =>
  pickle('\x80\x02ccollections\nOrderedDict\n)R(', uni('w'), 'ctorch._utils\n_rebuild_tensor_v2\n(', PID, 'K\x00K\x01\x85K\x01\x85\x89', hooks, 'tRu.');

describe('refused globals', () => {
  it('the fixture with os.system nested in the state dict’s _metadata: refused by name, located, never run', T, () => {
    const e = error(() => readHfBertFolder(fixture('hostile/os-system')));
    expect(e.code).toBe('SMC5042');
    expect(e.offending).toBe('os.system');
    expect(e.file).toBe(fixture('hostile/os-system/pytorch_model.bin'));
    expect(e.location).toBe('zip entry archive/data.pkl @ byte 5243');
    expect(e.message).toContain('`os.system`');
    expect(existsSync(PWNED)).toBe(false);
  });

  it('a well-formed state dict with a legal hooks argument loads (the hand-made pickles are right)', T, () => {
    const f = new FileBytes('ok.bin', pickle(LEGACY_HEADER, stateDict('ccollections\nOrderedDict\n)R'), '\x80\x02]', uni('0'), 'a.', Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(new Float32Array([4.5]).buffer)));
    const w = readWeights(f);
    expect(w.format).toBe('torch-legacy');
    expect(Array.from(w.tensors.get('w')!.data)).toEqual([4.5]);
  });

  it.each([
    ['a GLOBAL inside a tensor’s arguments', stateDict('cos\nsystem\n' + '(X\x04\x00\x00\x00truetR'), 'os.system'],
    ['posix.system at the top level', pickle('\x80\x02cposix\nsystem\n', uni('echo pwned'), '\x85R.'), 'posix.system'],
    ['builtins.eval through STACK_GLOBAL', pickle('\x80\x04\x8c\x08builtins\x8c\x04eval\x93', uni('1'), '\x85R.'), 'builtins.eval'],
    ['builtins.getattr', pickle('\x80\x02cbuiltins\ngetattr\n.'), 'builtins.getattr'],
    ['subprocess.Popen through INST', pickle('\x80\x02(', uni('ls'), 'isubprocess\nPopen\n.'), 'subprocess.Popen'],
    ['torch.storage._load_from_bytes (a nested torch.load)', pickle('\x80\x02ctorch.storage\n_load_from_bytes\n.'), 'torch.storage._load_from_bytes'],
    ['numpy.core.multiarray._reconstruct', pickle('\x80\x02cnumpy.core.multiarray\n_reconstruct\n.'), 'numpy.core.multiarray._reconstruct'],
    ['a global named through the copyreg extension registry', pickle('\x80\x02\x82\x07.'), 'extension code 7'],
  ])('%s', T, (_what, body, name) => {
    const e = error(() => readWeights(legacy(body)));
    expect(e.code).toBe('SMC5042');
    expect(e.offending).toBe(name);
    expect(e.file).toBe('hostile.bin');
    expect(e.location).toMatch(/^byte \d+$/);
    expect(existsSync(PWNED)).toBe(false);
  });

  it('the location is the byte of the GLOBAL opcode', T, () => {
    const body = stateDict('cos\nsystem\n(X\x04\x00\x00\x00truetR');
    const e = error(() => readWeights(legacy(body)));
    expect(e.location).toBe(`byte ${LEGACY_HEADER.length + Buffer.from(body).indexOf('cos\nsystem')}`);
  });

  it('a header pickle (sys_info) may not name globals either', T, () => {
    const f = new FileBytes('hostile.bin', pickle(LEGACY_HEADER.subarray(0, LEGACY_HEADER.length - 4), '\x80\x02cos\nsystem\n.'));
    expect(error(() => readWeights(f))).toMatchObject({ code: 'SMC5042', offending: 'os.system' });
  });

  it('a pickled whole model (module persistent id) is refused as unsupported', T, () => {
    const body = pickle('\x80\x02(', uni('module'), uni('x'), uni('y'), 't', 'Q.');
    expect(error(() => readWeights(legacy(body)))).toMatchObject({ code: 'SMC5043' });
  });

  it('the CLI prints it with its code and hint, never a stack trace', T, () => {
    let out = '';
    const rc = reportError(error(() => readHfBertFolder(fixture('hostile/os-system'))), (s) => (out += s));
    expect(rc).toBe(1);
    expect(out).toMatch(/^error SMC5042: .*pytorch_model\.bin \(zip entry archive\/data\.pkl @ byte 5243\): the pickle names the global `os\.system`/);
    expect(out).toContain('  hint: ');
    expect(out).not.toMatch(/\n\s+at /);
  });
});
