// Pretrained weights for a member of the model (`--init bert=path/to/bert-base-uncased`): read a Hugging Face
// folder, map its names onto the member's parameters with the declared name map (runtime/weights/name-map.ts),
// and replace the freshly initialised values. Every parameter of the member must come from the checkpoint.

import type { ModelAbi } from '../abi/model.js';
import { mapCheckpointNames, readHfBertFolder, SMCIR_BERT_NAME_MAP } from '../weights/index.js';
import { CheckpointError } from './safetensors.js';

export interface InitSource {
  /** The member of the model (a block path, e.g. `bert`). */
  member: string;
  path: string;
}

/** What a run records of the weights it started from. */
export interface InitRecord extends InitSource {
  file: string;
  format: string;
  sha256: string;
  tensors: number;
}

/** `bert=path` → { member, path }; undefined when the text is not of that form. */
export function parseInit(text: string): InitSource | undefined {
  const m = /^([A-Za-z_][\w.]*)=(.+)$/.exec(text);
  return m ? { member: m[1]!, path: m[2]! } : undefined;
}

export interface LoadedInit {
  record: InitRecord;
  values: Map<string, Float32Array>;
  /** One line listing checkpoint tensors the model does not use (pooler, pre-training heads), if any. */
  warning?: string;
}

export function loadInit(model: ModelAbi, src: InitSource): LoadedInit {
  const prefix = `${src.member}.`;
  const targets = model.parameters.filter((p) => p.name.startsWith(prefix)).map((p) => ({ name: p.name, shape: p.shape }));
  if (!targets.length) {
    const members = [...new Set(model.parameters.map((p) => p.name.split('.')[0]!))];
    throw new CheckpointError('SMC5044', `--init ${src.member}=…: the model has no parameters under \`${src.member}\``, `members with parameters: ${members.join(', ')}`);
  }
  const folder = readHfBertFolder(src.path);
  const mapped = mapCheckpointNames(folder.tensors, targets, { prefix, nameMap: SMCIR_BERT_NAME_MAP, file: folder.file });
  const values = new Map<string, Float32Array>();
  for (const [name, t] of mapped.tensors) values.set(name, t.data);
  return {
    record: { ...src, file: folder.file, format: folder.format, sha256: folder.sha256, tensors: values.size },
    values,
    warning: mapped.warning,
  };
}
