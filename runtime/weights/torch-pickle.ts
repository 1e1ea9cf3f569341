// The torch side of the pickle VM: the globals a state dict needs (OrderedDict, _rebuild_tensor_v2 /
// _rebuild_parameter, torch.<Dtype>Storage, torch.<dtype>), storage persistent ids, and the state dict as a
// map of tensor references (storage, offset, size, stride) still to be read. Everything else is refused by name.

import { WeightsError, type Place } from './errors.js';
import { PyDict, PyGlobal, unpickle } from './pickle-vm.js';

export type TorchDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const ITEM_SIZE: Record<TorchDtype, number> = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };

/** torch.<X>Storage → element type. Integer and bool storages appear as buffers (e.g. `embeddings.position_ids`). */
const STORAGE_TYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
};
/** torch.<dtype> globals (pickled torch.dtype objects). */
const DTYPE_NAMES: Record<string, TorchDtype> = {
  float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16', float64: 'float64', double: 'float64',
  int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
};

class StorageType {
  constructor(readonly dtype: TorchDtype) {}
}
class DtypeValue {
  constructor(readonly dtype: TorchDtype) {}
}

/** A storage as a persistent id names it; `view` is a legacy-format storage view (elements into the root). */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly numel: number,
    readonly location: string,
    readonly view?: { offset: number; numel: number },
  ) {}
}

/** A tensor still to be read: elements `offset + Σ i_k·stride[k]` of its storage (or storage view). */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    readonly at: string,
  ) {}
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function ints(v: unknown, what: string, bad: (why: string) => never): number[] {
  if (!Array.isArray(v) || !v.every(isCount)) bad(`${what} is not a tuple of non-negative integers`);
  return [...(v as number[])]; // a copy: a later APPEND to the same pickled tuple cannot change it after this check
}

function rebuildTensor(place: Place) {
  return (args: unknown[], at: string): TensorRef => {
    const bad = (why: string): never => {
      throw new WeightsError({ code: 'SMC5041', file: place.file, location: at, message: `the pickle is corrupt: a tensor's ${why}`, hint: 'the file is damaged; fetch it again' });
    };
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof StorageRef)) bad('storage is missing');
    if (!isCount(offset)) bad('storage offset is not a non-negative integer');
    const sz = ints(size, 'size', bad);
    const st = ints(stride, 'stride', bad);
    if (sz.length !== st.length) bad(`size (${sz.length} dims) and stride (${st.length} dims) disagree`);
    return new TensorRef(storage as StorageRef, offset as number, sz, st, at);
  };
}

function parameter(place: Place) {
  return (args: unknown[], at: string): TensorRef => {
    if (!(args[0] instanceof TensorRef)) {
      throw new WeightsError({ code: 'SMC5041', file: place.file, location: at, message: 'the pickle is corrupt: a parameter without a tensor' });
    }
    return args[0];
  };
}

/** The only globals a state-dict pickle may name. */
export function stateDictGlobals(place: Place): Map<string, (args: unknown[], at: string) => unknown> {
  const allowed = new Map<string, (args: unknown[], at: string) => unknown>();
  allowed.set('collections.OrderedDict', (args, at) => {
    const d = new PyDict();
    const items = args[0];
    if (Array.isArray(items)) {
      for (const kv of items) {
        if (!Array.isArray(kv) || kv.length !== 2 || typeof kv[0] !== 'string') {
          throw new WeightsError({ code: 'SMC5041', file: place.file, location: at, message: 'the pickle is corrupt: OrderedDict items are not (name, value) pairs' });
        }
        d.map.set(kv[0], kv[1]);
      }
    }
    return d;
  });
  const rebuild = rebuildTensor(place);
  allowed.set('torch._utils._rebuild_tensor_v2', rebuild);
  allowed.set('torch._utils._rebuild_tensor', rebuild);
  allowed.set('torch._utils._rebuild_parameter', parameter(place));
  allowed.set('torch._utils._rebuild_parameter_with_state', parameter(place));
  for (const [name, dtype] of Object.entries(STORAGE_TYPES)) allowed.set(`torch.${name}`, () => new StorageType(dtype));
  for (const [name, dtype] of Object.entries(DTYPE_NAMES)) allowed.set(`torch.${name}`, () => new DtypeValue(dtype));
  return allowed;
}

export const REFUSAL_HINT = 'a state dict needs only collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter and torch.<Dtype>Storage';

/** Parses a storage persistent id: ('storage', torch.<X>Storage, key, location, numel[, view_metadata]). */
export function storagePid(pid: unknown, at: string, place: Place): StorageRef {
  const bad = (why: string, code: 'SMC5041' | 'SMC5043' = 'SMC5041'): never => {
    throw new WeightsError({ code, file: place.file, location: at, message: why });
  };
  if (Array.isArray(pid) && typeof pid[0] === 'string' && pid[0] !== 'storage') {
    return bad(`a persistent id of kind '${pid[0].slice(0, 40)}' (a pickled module or object, not a state dict)`, 'SMC5043');
  }
  if (!Array.isArray(pid) || pid.length < 5) return bad('the pickle is corrupt: a persistent id that is not a storage tuple');
  const [, type, key, location, numel, view] = pid;
  const st = type instanceof PyGlobal ? type.call([], at) : undefined;
  if (!(st instanceof StorageType)) return bad(`the pickle is corrupt: storage ${String(key)} has no storage type`);
  if (typeof key !== 'string' || !isCount(numel)) return bad('the pickle is corrupt: a storage without a key or an element count');
  if (view === undefined || view === null) return new StorageRef(key, st.dtype, numel, String(location));
  if (!Array.isArray(view) || view.length !== 3 || !isCount(view[1]) || !isCount(view[2]) || view[1] + view[2] > numel) {
    return bad(`the pickle is corrupt: storage ${key} has a view outside it`);
  }
  return new StorageRef(key, st.dtype, numel, String(location), { offset: view[1], numel: view[2] });
}

/**
 * Runs a state-dict pickle; `onStorage` sees every storage persistent id (the format checks it against its
 * storage bytes). Returns the tensors by name, in file order.
 */
export function unpickleStateDict(
  bytes: Uint8Array,
  start: number,
  place: Place,
  onStorage: (ref: StorageRef, at: string) => void,
): { tensors: Map<string, TensorRef>; end: number } {
  const { value, end } = unpickle(bytes, start, {
    place,
    allowed: stateDictGlobals(place),
    refusalHint: REFUSAL_HINT,
    persistentLoad: (pid, at) => {
      const ref = storagePid(pid, at, place);
      onStorage(ref, at);
      return ref;
    },
  });
  return { tensors: stateDictEntries(value, place), end };
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `a list or tuple of ${v.length}`;
  if (v instanceof PyDict) return `a dict of ${v.map.size}`;
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof StorageType || v instanceof DtypeValue) return `a ${v.dtype} type`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function stateDictEntries(value: unknown, place: Place): Map<string, TensorRef> {
  if (!(value instanceof PyDict)) {
    throw new WeightsError({ code: 'SMC5043', file: place.file, message: `the checkpoint holds ${describe(value)}, not a state dict (a dict of tensors)`, hint: 'save the weights with torch.save(model.state_dict(), f)' });
  }
  const out = new Map<string, TensorRef>();
  for (const [k, v] of value.map) {
    if (typeof k !== 'string') throw new WeightsError({ code: 'SMC5043', file: place.file, message: `the state dict has a key ${String(k)} that is not a name` });
    if (!(v instanceof TensorRef)) {
      const wrapped = v instanceof PyDict ? ` (a wrapped checkpoint? its keys: ${[...v.map.keys()].slice(0, 5).join(', ')})` : '';
      throw new WeightsError({ code: 'SMC5043', file: place.file, name: k, message: `state dict entry \`${k}\` is ${describe(v)}, not a tensor${wrapped}`, hint: 'save only the weights: torch.save(model.state_dict(), f)' });
    }
    out.set(k, v);
  }
  return out;
}
