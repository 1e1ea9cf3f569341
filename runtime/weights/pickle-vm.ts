// A restricted pickle VM: builds plain data and calls ONLY the functions its caller allows by `module.name`; any
// other global (GLOBAL, STACK_GLOBAL, INST, extension codes) is refused by name where it appears, so no code from
// a file ever runs. Reads are bounded by the bytes given; errors are WeightsErrors located at the opcode's byte.
// (Not runtime/data/pickle.ts: pickleparser turns unknown globals into placeholders and keys dicts by plain object.)

import { locate, TRUNCATED_HINT, WeightsError, type Place } from './errors.js';

/** A Python dict (also OrderedDict); attributes set by BUILD (a state dict's `_metadata`) go to `attrs`. */
export class PyDict {
  readonly map = new Map<PyKey, unknown>();
  readonly attrs = new Map<string, unknown>();
}
export type PyKey = string | number | bigint | boolean | null;

/** A Python set or frozenset, as a list of its items. */
export class PySet {
  constructor(readonly items: unknown[] = []) {}
}

/** An allowed global; `call` receives the positional arguments of REDUCE / NEWOBJ / INST / OBJ. */
export class PyGlobal {
  constructor(readonly qualified: string, readonly call: (args: unknown[], at: string) => unknown) {}
}

export interface VmOptions {
  place: Place;
  /** The only callables a pickle may name, by `module.name` (e.g. `collections.OrderedDict`). */
  allowed: ReadonlyMap<string, (args: unknown[], at: string) => unknown>;
  /** Explains a refusal to the reader (appended to the message). */
  refusalHint?: string;
  /** Resolves a persistent id (torch: a storage); without it a persistent id is an error. */
  persistentLoad?: (pid: unknown, at: string) => unknown;
}

/** The bytes ended before STOP. The legacy reader catches it to read a larger window of the file. */
export class PickleTruncated extends WeightsError {
  constructor(place: Place, readonly pos: number) {
    super({ code: 'SMC5041', file: place.file, location: locate(place, pos), message: 'the file is truncated: its pickle ends before its STOP opcode', hint: TRUNCATED_HINT });
  }
}

const MAX_LINE = 1 << 16;
const MAX_LONG_BYTES = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Runs the pickle that starts at `bytes[start]`; returns its value and the position after its STOP opcode. */
export function unpickle(bytes: Uint8Array, start: number, opts: VmOptions): { value: unknown; end: number } {
  const { place } = opts;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let op = start; // position of the current opcode, for errors
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const at = () => locate(place, op);
  const corrupt = (why: string): never => {
    throw new WeightsError({ code: 'SMC5041', file: place.file, location: at(), message: `the pickle is corrupt: ${why}`, hint: 'the file is damaged or not a PyTorch checkpoint; fetch it again' });
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) throw new PickleTruncated(place, bytes.length);
    const p = pos;
    pos += n;
    return p;
  };
  const u8 = () => bytes[need(1)]!;
  const u16 = () => dv.getUint16(need(2), true);
  const u32 = () => dv.getUint32(need(4), true);
  const i32 = () => dv.getInt32(need(4), true);
  const u64 = () => {
    const p = need(8);
    const v = dv.getUint32(p, true) + 2 ** 32 * dv.getUint32(p + 4, true);
    if (!Number.isSafeInteger(v)) corrupt('a length beyond 2^53');
    return v;
  };
  const raw = (n: number) => bytes.subarray(need(n), pos);
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > MAX_LINE) {
      if (end < 0 && bytes.length - pos <= MAX_LINE) throw new PickleTruncated(place, bytes.length);
      corrupt('a text line longer than 64 KiB');
    }
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (n: number): string => {
    try {
      return utf8.decode(raw(n));
    } catch (e) {
      if (e instanceof WeightsError) throw e;
      return corrupt('a string that is not UTF-8');
    }
  };
  const long = (b: Uint8Array): number | bigint => {
    if (b.length > MAX_LONG_BYTES) corrupt(`an integer of ${b.length} bytes`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b.length > 0 && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const pop = (): unknown => {
    if (stack.length === 0) corrupt('an opcode pops an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) corrupt('an opcode reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) return corrupt('an opcode needs a MARK that is not there');
    stack = prev;
    return items;
  };
  const resolve = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    const fn = opts.allowed.get(q);
    if (!fn) {
      throw new WeightsError({
        code: 'SMC5042',
        file: place.file,
        location: at(),
        name: q,
        message: `the pickle names the global \`${q}\`, which smcirc refuses: nothing from a checkpoint is ever run${opts.refusalHint ? `; ${opts.refusalHint}` : ''}`,
        hint: 'a state dict holds only tensors; re-save the weights with torch.save(model.state_dict(), f) or as model.safetensors from a trusted copy',
      });
    }
    return new PyGlobal(q, fn);
  };
  const call = (callee: unknown, args: unknown): unknown => {
    if (!(callee instanceof PyGlobal)) return corrupt('a call of something that is not a global');
    if (!Array.isArray(args)) return corrupt(`arguments to ${callee.qualified} are not a tuple`);
    return callee.call(args, at());
  };
  const key = (k: unknown): PyKey => {
    if (k === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof k)) return k as PyKey;
    return corrupt('a dict key that is not a string or a number');
  };
  const setItems = (d: unknown, items: unknown[]) => {
    if (!(d instanceof PyDict)) corrupt('SETITEM(S) on something that is not a dict');
    if (items.length % 2) corrupt('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (d as PyDict).map.set(key(items[i]), items[i + 1]);
  };
  const memoGet = (i: number) => {
    if (!memo.has(i)) corrupt(`memo entry ${i} is read before it is written`);
    return memo.get(i);
  };
  const intLine = (s: string): number | bigint | boolean => {
    if (s === '00') return false;
    if (s === '01') return true;
    const m = /^([+-]?\d+)L?$/.exec(s);
    if (!m || m[1]!.length > 40) return corrupt(`an integer literal '${s.slice(0, 40)}'`);
    const v = BigInt(m[1]!);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    op = pos;
    const code = u8();
    switch (code) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) throw new WeightsError({ code: 'SMC5043', file: place.file, location: at(), message: `pickle protocol ${v} is newer than any Python writes (0..5)` });
        break;
      }
      case 0x95: u64(); break; // FRAME: a length hint, nothing to do
      case 0x2e: return { value: pop(), end: pos }; // STOP
      case 0x28: metastack.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      // memo
      case 0x70: memo.set(Number(intLine(line())), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: stack.push(memoGet(Number(intLine(line())))); break; // GET
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      // constants and numbers
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x49: stack.push(intLine(line())); break; // INT
      case 0x4c: stack.push(intLine(line())); break; // LONG
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(long(raw(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = u32();
        if (n > MAX_LONG_BYTES) corrupt(`an integer of ${n} bytes`);
        stack.push(long(raw(n)));
        break;
      }
      case 0x46: { // FLOAT
        const s = line();
        const v = Number(s);
        if (Number.isNaN(v) && !/^[+-]?nan$/i.test(s)) corrupt(`a float literal '${s.slice(0, 40)}'`);
        stack.push(v);
        break;
      }
      case 0x47: stack.push(dv.getFloat64(need(8), false)); break; // BINFLOAT
      // strings and bytes
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(str(u64())); break; // BINUNICODE8
      case 0x54: { // BINSTRING (Python 2 str)
        const n = i32();
        if (n < 0) corrupt('a negative string length');
        stack.push(latin1.decode(raw(n)));
        break;
      }
      case 0x55: stack.push(latin1.decode(raw(u8()))); break; // SHORT_BINSTRING
      case 0x53: { // STRING (protocol 0): a quoted literal
        const s = line();
        if (s.length < 2 || s[0] !== s[s.length - 1] || !`'"`.includes(s[0]!) || s.includes('\\')) {
          throw new WeightsError({ code: 'SMC5043', file: place.file, location: at(), message: 'a protocol-0 string with escapes; re-save the checkpoint with torch.save' });
        }
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x56: { // UNICODE (protocol 0, raw-unicode-escape)
        const s = line();
        if (s.includes('\\')) throw new WeightsError({ code: 'SMC5043', file: place.file, location: at(), message: 'a protocol-0 unicode string with escapes; re-save the checkpoint with torch.save' });
        stack.push(s);
        break;
      }
      case 0x42: stack.push(raw(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(raw(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(raw(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(raw(u64()).slice()); break; // BYTEARRAY8
      // tuples and lists (both arrays)
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: { const items = popMark(); stack.push(items); break; } // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x61: { // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) corrupt('APPEND to something that is not a list');
        (l as unknown[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) corrupt('APPENDS to something that is not a list');
        for (const v of items) (l as unknown[]).push(v);
        break;
      }
      // dicts and sets
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: stack.push(new PySet()); break; // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet)) corrupt('ADDITEMS to something that is not a set');
        for (const v of items) (s as PySet).items.push(v);
        break;
      }
      case 0x91: { const items = popMark(); stack.push(new PySet(items)); break; } // FROZENSET
      // globals and calls: only what `allowed` names
      case 0x63: { const m = line(); stack.push(resolve(m, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const m = pop();
        if (typeof m !== 'string' || typeof name !== 'string') corrupt('STACK_GLOBAL with a module or name that is not a string');
        stack.push(resolve(m as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(); stack.push(call(pop(), args)); break; } // NEWOBJ: cls.__new__(cls, *args)
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size) corrupt('NEWOBJ_EX with keyword arguments');
        stack.push(call(pop(), args));
        break;
      }
      case 0x69: { // INST: module and name inline, arguments since MARK
        const m = line();
        const g = resolve(m, line());
        const args = popMark(); // (reassigns `stack`: not inside stack.push(...))
        stack.push(call(g, args));
        break;
      }
      case 0x6f: { const items = popMark(); if (!items.length) corrupt('OBJ without a class'); stack.push(call(items[0], items.slice(1))); break; } // OBJ
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict)) return corrupt('BUILD (setting object state) on something that is not a dict');
        const dict = Array.isArray(state) ? state[0] : state; // (state, slotstate)
        if (dict instanceof PyDict) for (const [k, v] of dict.map) obj.attrs.set(String(k), v);
        else if (dict !== null) corrupt('BUILD with a state that is not a dict');
        break;
      }
      case 0x82: case 0x83: case 0x84: { // EXT1 / EXT2 / EXT4: a global named by the copyreg registry
        const n = code === 0x82 ? u8() : code === 0x83 ? u16() : u32();
        throw new WeightsError({ code: 'SMC5042', file: place.file, location: at(), name: `extension code ${n}`, message: `the pickle names a global through extension code ${n}, which smcirc refuses: nothing from a checkpoint is ever run` });
      }
      case 0x50: case 0x51: { // PERSID / BINPERSID
        const pid = code === 0x50 ? line() : pop();
        if (!opts.persistentLoad) corrupt('a persistent id where none is expected');
        stack.push(opts.persistentLoad!(pid, at()));
        break;
      }
      case 0x97: case 0x98: // NEXT_BUFFER / READONLY_BUFFER
        throw new WeightsError({ code: 'SMC5043', file: place.file, location: at(), message: 'the pickle uses protocol-5 out-of-band buffers, which a file cannot carry' });
      default:
        corrupt(`unknown opcode 0x${code.toString(16).padStart(2, '0')}`);
    }
  }
}
