// Pretrained weights from a Hugging Face folder, read safely: safetensors and both PyTorch checkpoint formats
// (nothing from a file is ever run), BERT's config.json, and the declared name map onto a spec's parameters.

export { WeightsError, type WeightsErrorCode } from './errors.js';
export { readHfBertFolder, readWeightsFile, readWeights, findWeightsFile, type HfFolder, type LoadedWeights, type WeightsFormat } from './hf-folder.js';
export { parseBertConfig, readBertConfig, bertParameterShapes, type BertConfig } from './bert-config.js';
export { mapCheckpointNames, HF_BERT_NAME_MAP, SMCIR_BERT_NAME_MAP, type NameMap, type RenameRule, type MapOptions, type MappedWeights } from './name-map.js';
export type { Tensor } from './torch-tensors.js';
export { FileBytes } from './file-bytes.js';
