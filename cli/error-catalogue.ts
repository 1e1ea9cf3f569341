// Every error code smcirc prints, each in one place with its title and its explanation for `smcirc explain`:
// the front end's catalogue (grammar/catalogue.ts) plus the runtime's (GPU 4xxx, kernels 41xx,
// training/checkpoints/bundles 5xxx, data 6xxx).

import { CATALOGUE, type Explanation } from '../grammar/diagnostics.js';

const RUNTIME: Record<string, Explanation> = {
  SMC4001: {
    title: 'no WebGPU adapter (no GPU driver or lavapipe)',
    what: 'Dawn (npm `webgpu`) found no Vulkan, Metal or D3D12 device to run the kernels on: no GPU driver, no Mesa lavapipe, or a driver too old for WebGPU.',
    example: ['smcirc train --backend gpu          # on a machine without a GPU driver or lavapipe'],
    fix: 'Install a GPU driver with Vulkan support, or lavapipe (`mesa-vulkan-drivers` >= 23 and `libvulkan1`; `bash scripts/setup.sh` does it on Debian). Set XDG_RUNTIME_DIR if it is unset. Or run on the CPU with `--backend reference`.',
  },
  SMC4002: {
    title: 'the adapter would not open a device',
    what: 'Dawn found an adapter but could not create a device on it: the driver refused, or the limits smcirc asks for exceed what it offers.',
    example: ['smcirc train specs/smcir-tiny.smcir          # with a broken or partial Vulkan install'],
    fix: 'Update or reinstall the driver (for lavapipe: mesa-vulkan-drivers >= 23); `vulkaninfo` shows whether Vulkan works. `--backend reference` runs without a GPU.',
  },
  SMC4003: {
    title: 'the adapter’s limits are too small for the plan',
    what: 'A buffer or a binding of the compiled plan is larger than the adapter allows (maxBufferSize, maxStorageBufferBindingSize).',
    example: ['smcirc train specs/smcir.smcir --set train.batch_size=512          # on a small GPU'],
    fix: 'Lower the batch size (`--set train.batch_size=...`) or the widths, or use an adapter with larger limits; `smcirc inspect <spec> --graph` shows the sizes.',
  },
  SMC4010: {
    title: 'a WebGPU error during a step (validation, out of memory, internal); names the kernel',
    what: 'The device reported an error while running a kernel: a validation error (a bug in smcirc\'s generated code), out of memory, or an internal driver error. The message names the kernel.',
    example: ['smcirc train specs/smcir.smcir          # running out of GPU memory at full size'],
    fix: 'Out of memory: lower the batch size. Otherwise rerun with `--dump-wgsl <dir>` and `--validate`, and report the kernel and its WGSL.',
  },
  SMC4011: {
    title: 'a kernel’s WGSL does not compile; names the kernel',
    what: 'The driver rejected the WGSL smcirc generated for a kernel. This is a bug in smcirc (or a driver that lacks a WGSL feature).',
    example: ['smcirc train --dump-wgsl wgsl/          # then look at the kernel the message names'],
    fix: 'Report it with the spec and the dumped WGSL (`--dump-wgsl <dir>`); `--backend reference` runs meanwhile.',
  },
  SMC4012: {
    title: 'a bind group could not be created',
    what: 'Binding a kernel\'s buffers failed: a buffer range is misaligned or larger than the adapter allows. Usually a bug in smcirc\'s memory plan for this adapter.',
    example: ['smcirc train specs/smcir.smcir          # on an adapter with unusual alignment limits'],
    fix: 'Report it with the spec and the adapter (`vulkaninfo --summary`); `--backend reference` runs meanwhile.',
  },
  SMC4020: {
    title: 'a plan and its buffers disagree (or a bundle’s kernels differ from this build’s)',
    what: 'A tensor was fed or read under a name or size the dispatch plan does not have, or a bundle compiled elsewhere holds kernels this build of smcirc would not generate for this adapter.',
    example: ['smcirc train build/smcir-tiny          # a bundle compiled on another machine or version'],
    fix: 'Recompile the bundle on this machine with `smcirc compile <spec> -o <dir>`; from your own code, feed exactly the inputs the manifest lists.',
  },
  SMC4021: {
    title: 'reading a result back from the GPU failed',
    what: 'Mapping a result buffer for reading failed, usually because the device was lost or ran out of memory just before.',
    example: ['smcirc eval runs/<run>          # while the GPU driver resets'],
    fix: 'Rerun; if it repeats, check the driver (and the messages before this one). `--backend reference` runs on the CPU.',
  },
  SMC4030: {
    title: 'validate mode: a kernel disagrees with the reference interpreter',
    what: '`--validate` ran every kernel of the first train step and forward pass against the CPU interpreter, and this kernel\'s output differs beyond tolerance (or the plan is chunked, which validate mode cannot check kernel by kernel).',
    example: ['smcirc train specs/smcir-tiny.smcir --validate --max-steps 1'],
    fix: 'Report it with the kernel\'s name and `--dump-wgsl` output: it is a code generation bug or a driver bug. Chunked plans (very large models): validate at smaller widths with `--set`.',
  },
  SMC4040: {
    title: 'the GPU device was lost',
    what: 'The driver took the device away mid-run: a crash, a timeout on a very long kernel, or a reset.',
    example: ['smcirc train specs/smcir.smcir          # a driver watchdog kills a long dispatch'],
    fix: 'Check the driver (lavapipe needs mesa-vulkan-drivers >= 23); resume the run with `smcirc train --resume <run>`.',
  },
  SMC4101: {
    title: 'malformed kernel IR (a bug in smcirc)',
    what: 'The kernel generator produced a kernel whose inputs, outputs or index ranges are inconsistent; the check stops it before it reaches the GPU.',
    example: ['smcirc compile <spec> -o build/x          # on a spec that hits the bug'],
    fix: 'Report it with the spec and the `--set` options; `--backend reference` runs meanwhile.',
  },
  SMC4102: {
    title: 'a kernel needs more storage buffers than the adapter allows',
    what: 'A fused kernel binds more storage buffers (or a larger range) than the adapter\'s maxStorageBuffersPerShaderStage or maxStorageBufferBindingSize allows, and fusion could not split it.',
    example: ['smcirc compile specs/smcir.smcir -o build/x --target software'],
    fix: 'Report it with the spec and adapter limits; an adapter with higher limits, or smaller widths, avoids it.',
  },
  SMC4103: {
    title: 'a construct has no GPU lowering yet',
    what: 'The graph contains an operation or a layout the GPU kernel generator does not handle yet (the reference interpreter does).',
    example: ['smcirc train <spec using an unusual construct>'],
    fix: 'Run with `--backend reference`, or rewrite the spec with supported functions (`smcirc stdlib`); report the construct.',
  },
  SMC4104: {
    title: 'memory plan inconsistency (a bug in smcirc)',
    what: 'The memory planner placed tensors so that they overlap, are misaligned or are read after being updated in place; the check stops it before it corrupts results.',
    example: ['smcirc compile <spec> -o build/x          # on a spec that hits the bug'],
    fix: 'Report it with the spec and the `--set` options; `--backend reference` runs meanwhile.',
  },
  SMC5001: {
    title: 'the training split is smaller than one batch',
    what: 'Training drops the last partial batch (shapes are static), so a training split with fewer samples than `train.batch_size` gives no step at all.',
    example: ['smcirc train specs/smcir-tiny.smcir --set data.synthetic_train=8          # batch_size is 16'],
    fix: 'Lower the batch size (`--set train.batch_size=8`) or use more training data.',
  },
  SMC5002: {
    title: 'training diverged: a NaN or infinite loss or validation error',
    what: 'The loss became NaN or infinite at some step (named with epoch, step and batch), or the weights diverged so that validation L1 is not finite. The run stops; the last good checkpoint stays.',
    example: ['smcirc train specs/smcir-tiny.smcir --set train.lr=1e38'],
    fix: 'Lower the learning rate (`--set train.lr=...`), clip gradients (`train.clip_grad_norm`), or check the data for NaN/Inf; `--resume` continues from the last good checkpoint.',
  },
  SMC5003: {
    title: 'the model has no output `pred`',
    what: 'Training and evaluation compare the output `pred` with the target; the model declares no such output.',
    example: ['model M { forward(x) { output y = lin(x)[:, 0] } }'],
    fix: 'Name the prediction `pred`: `output pred = ...` in the model\'s forward.',
  },
  SMC5010: {
    title: 'not a valid safetensors file',
    what: 'A checkpoint file is truncated, corrupt, or not in the safetensors format (e.g. a PyTorch .pt file).',
    example: ['smcirc eval model.pt --spec specs/smcir-tiny.smcir'],
    fix: 'Use a run folder\'s `seed-N/best.safetensors` or `last.safetensors`; convert PyTorch weights to safetensors first.',
  },
  SMC5011: {
    title: 'the disk is full (the previous checkpoint is intact)',
    what: 'Writing a checkpoint or result failed for lack of space. Checkpoints are written to a temporary file and renamed, so the previous one is intact.',
    example: ['smcirc train --out /full-disk/run'],
    fix: 'Free some space, then `smcirc train --resume <run>` continues from the last checkpoint.',
  },
  SMC5012: {
    title: 'a file could not be written',
    what: 'A checkpoint, result or run file could not be written: the folder is read-only or not writable by you.',
    example: ['smcirc train --out /read-only/run'],
    fix: 'Choose a writable folder with `--out`.',
  },
  SMC5013: {
    title: 'a checkpoint could not be read',
    what: 'The checkpoint path does not exist or cannot be opened.',
    example: ['smcirc eval runs/missing/seed-1111/best.safetensors --spec specs/smcir-tiny.smcir'],
    fix: 'Pass a run folder made by `smcirc train` or an existing .safetensors file.',
  },
  SMC5014: {
    title: 'a checkpoint does not fit the spec (missing tensor or wrong shape)',
    what: 'The checkpoint lacks a parameter the spec has, or a parameter has another shape: it was trained with another spec or other `--set` overrides.',
    example: ['smcirc eval runs/<tiny-run>/seed-1111/best.safetensors --spec specs/smcir.smcir'],
    fix: 'Evaluate with the spec and `--set` options of its run (a run folder remembers them: `smcirc eval runs/<run>`).',
  },
  SMC5015: {
    title: 'a run folder’s run.json is damaged',
    what: 'run.json, which records the spec, overrides and data of a run, is missing fields or is not valid JSON, so the folder cannot be resumed or evaluated as a run.',
    example: ['smcirc eval runs/<run-with-edited-run.json>'],
    fix: 'Restore run.json, or evaluate a checkpoint directly: `smcirc eval runs/<run>/seed-1111/best.safetensors --spec <spec>`.',
  },
  SMC5020: {
    title: 'the model has no DMFD state outputs (state_v, state_a)',
    what: '`smcirc diagnose` reports per-sample DMFD states, which it reads from the outputs `state_v` and `state_a`; the model has no such outputs.',
    example: ['smcirc diagnose runs/<run of a model without state_v/state_a>'],
    fix: 'Declare them in the model\'s forward (0 present, 1 missing, 2 both missing), as specs/smcir.smcir does.',
  },
  SMC5030: {
    title: 'not a bundle (no manifest.json)',
    what: 'A folder was given where a bundle from `smcirc compile` was expected, but it has no manifest.json.',
    example: ['smcirc train build/empty-folder'],
    fix: 'Pass a folder made by `smcirc compile <spec> -o <dir>`, or pass the spec itself.',
  },
  SMC5031: {
    title: 'a bundle manifest that cannot be read',
    what: 'The bundle\'s manifest.json is not valid JSON or is not an smcirc manifest.',
    example: ['smcirc train build/smcir-tiny          # after manifest.json was edited by hand'],
    fix: 'Recompile the bundle with `smcirc compile <spec> -o <dir>`.',
  },
  SMC5032: {
    title: 'a bundle of another ABI version',
    what: 'The bundle was compiled by a version of smcirc whose bundle format (ABI) differs from this one\'s.',
    example: ['smcirc train build/compiled-by-an-older-smcirc'],
    fix: 'Recompile the bundle with this smcirc: `smcirc compile <spec> -o <dir>`.',
  },
  SMC5033: {
    title: 'a file of the bundle is missing',
    what: 'The manifest lists a kernel, glue or spec file that is not in the bundle folder.',
    example: ['rm build/smcir-tiny/kernels/k0.wgsl && smcirc train build/smcir-tiny'],
    fix: 'Restore the file or recompile the bundle.',
  },
  SMC5034: {
    title: 'the bundle’s spec files were changed after compiling',
    what: 'The spec files saved in the bundle no longer hash to what the manifest records, so its kernels may not match them.',
    example: ['echo "const eta = 0.4" >> build/smcir-tiny/spec/smcir-tiny.smcir && smcirc train build/smcir-tiny'],
    fix: 'Restore the spec files, or recompile the bundle from the edited spec.',
  },
  SMC5035: {
    title: 'a kernel of the bundle was changed after compiling',
    what: 'A kernel\'s WGSL no longer matches the sha256 recorded in the manifest.',
    example: ['vi build/smcir-tiny/kernels/<kernel>.wgsl && smcirc train build/smcir-tiny'],
    fix: 'Restore the file, or recompile the bundle.',
  },
  SMC5036: {
    title: 'the output folder of `compile` holds something other than a bundle',
    what: '`smcirc compile -o <dir>` replaces an existing bundle, but refuses to clear a non-empty folder that is not one.',
    example: ['smcirc compile specs/smcir-tiny.smcir -o src/'],
    fix: 'Choose an empty or new folder for `-o`.',
  },
  SMC5037: {
    title: 'the bundle’s manifest was changed after compiling',
    what: 'manifest.json no longer hashes to the `manifest_sha256` it records: a setting, an override, the parameter table or a dispatch plan was edited. A bundle promises integrity against accidents, not authenticity (whoever edits it on purpose can recompute the hash).',
    example: ['sed -i \'s/"lr": 0.001/"lr": 10/\' build/smcir-tiny/manifest.json && smcirc train build/smcir-tiny'],
    fix: 'Restore manifest.json, or recompile the bundle with the settings you want (`smcirc compile <spec> --set train.lr=… -o <dir>`).',
  },
  SMC5040: { title: 'pretrained weights cannot be found or read', what: 'The model folder or weights file given for pretrained weights does not exist or cannot be opened, or the folder lacks config.json or a weights file (model.safetensors or pytorch_model.bin).', example: ['smcirc train specs/smcir-bert.smcir --init bert=models/bert-base-uncased          # a folder holding only vocab.txt'], fix: 'Pass the Hugging Face model folder that holds config.json next to model.safetensors or pytorch_model.bin, and check its permissions.' },
  SMC5041: { title: 'a checkpoint is truncated or corrupt (with the file and the byte or zip entry)', what: 'A weights file ends early or holds bytes that do not decode: a cut download, a zip without its central directory, a pickle without its STOP opcode, or a storage or tensor view that claims more bytes than the file has. The message gives the file and the byte offset or zip entry.', example: ['head -c 100000000 pytorch_model.bin > cut/pytorch_model.bin          # then --init bert=cut'], fix: 'Download the checkpoint again and compare its sha256 with the one the model hub publishes.' },
  SMC5042: { title: 'a checkpoint names code, which smcirc refuses to run', what: 'A pickle in the checkpoint names a Python global outside what a state dict needs (for example `os.system`), at the byte the message gives. smcirc never runs code from a file: it stops before building anything.', example: ['torch.save({"w": w, "x": Evil()}, "pytorch_model.bin")          # Evil.__reduce__ returns (os.system, ("...",))'], fix: 'Do not use the file: get the weights from a trusted source, preferably as model.safetensors, or re-save only the state dict (torch.save(model.state_dict(), f)) on a machine you trust.' },
  SMC5043: { title: 'unsupported checkpoint content (format, dtype, compression, a non-tensor entry)', what: 'The checkpoint is in a form smcirc does not read: a tar checkpoint (torch < 0.4), a sharded checkpoint, only TensorFlow/Flax weights, an encrypted or unusually compressed zip entry, a non-F32 safetensors tensor, a pickled whole model, or a state dict entry that is not a tensor.', example: ['torch.save({"model": model.state_dict(), "epoch": 3}, "pytorch_model.bin")'], fix: 'Save the weights alone: torch.save(model.state_dict(), f) or model.save_pretrained(dir) (one model.safetensors or pytorch_model.bin).' },
  SMC5044: { title: 'the checkpoint lacks a tensor the spec needs', what: 'A parameter of the spec under its member prefix (e.g. `bert.`) has no tensor in the checkpoint once the name map is applied; the message names the parameter and the checkpoint name it would come from.', example: ['a checkpoint in which bert.encoder.layer.1.attention.self.query.weight was renamed'], fix: 'Use a BERT checkpoint of the spec’s layout, or add a rule to the name map that rewrites the checkpoint’s names.' },
  SMC5045: { title: 'a checkpoint tensor has another shape than the spec’s parameter', what: 'A checkpoint tensor maps to a spec parameter but its shape differs (e.g. [8, 16] for [16, 8]): the checkpoint was trained with other widths, or the tensor is stored transposed.', example: ['bert-large-uncased weights for a spec with hidden size 768'], fix: 'Make the spec’s widths match the checkpoint’s config.json (hidden_size, intermediate_size, vocab_size, max_position_embeddings, …), or use the matching checkpoint.' },
  SMC5046: { title: 'the checkpoint has tensors the spec does not use', what: 'A checkpoint tensor is neither used by the spec nor known to be unused (the pooler and the pre-training heads are), e.g. a fine-tuned `classifier.*` head; or two checkpoint tensors map to the same parameter.', example: ['a BertForSequenceClassification checkpoint (with classifier.weight) for a spec that holds only BertModel'], fix: 'Allow unexpected tensors (they are then listed in the one warning line), add them to the name map’s known-unused list, or keep one copy of a tensor saved under two names.' },
  SMC5047: { title: 'config.json is invalid', what: 'The model folder’s config.json is not valid JSON, lacks a field that fixes the architecture (hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, vocab_size), or has a field of the wrong type or value.', example: ['{"hidden_size": 768, "num_attention_heads": 12}          # no num_hidden_layers'], fix: 'Use the config.json that came with the weights (Hugging Face BertConfig fields).' },
  SMC6001: {
    title: 'a data file cannot be opened or read',
    what: 'The file given with `--data` does not exist or cannot be read.',
    example: ['smcirc train --data MOSI/Processed/unaligned_5.pkl'],
    fix: 'Check the path (an MMSA pickle such as `unaligned_50.pkl`, or a folder from `smcirc data convert`) and its permissions.',
  },
  SMC6002: {
    title: 'a pickle is truncated or corrupt (with the byte offset)',
    what: 'The pickle ends early or contains bytes that do not decode; the message gives the byte offset. Usually an interrupted download or copy.',
    example: ['head -c 1000000 unaligned_50.pkl > cut.pkl && smcirc train --data cut.pkl'],
    fix: 'Download the file again and compare its SHA-256 with the one MMSA publishes.',
  },
  SMC6003: {
    title: 'not a pickle at all (e.g. a corrupt download)',
    what: 'The file is empty, or does not start like a pickle (for example an HTML error page saved under the pickle\'s name), or uses an unsupported protocol.',
    example: ['smcirc train --data download-error.html'],
    fix: 'Fetch the file again; smcirc reads pickle protocols 2 to 5.',
  },
  SMC6004: {
    title: 'unsupported pickle content (torch tensors, unknown objects)',
    what: 'The pickle holds objects smcirc does not read: torch tensors, arbitrary classes, or protocol-5 out-of-band buffers. MMSA feature pickles hold dicts of numpy arrays.',
    example: ['smcirc train --data features-saved-with-torch.pkl'],
    fix: 'Save the features as numpy arrays (`tensor.numpy()`) in MMSA\'s layout, with `pickle.dump(obj, f, protocol=4)`.',
  },
  SMC6005: {
    title: 'checksum mismatch against the MMSA-published SHA-256',
    what: 'The file\'s SHA-256 differs from the one MMSA publishes for it: a corrupt download or another version of the file.',
    example: ['loadMmsaPickle("unaligned_50.pkl", { sha256: "…" })          # from code, with a known checksum'],
    fix: 'Download the file again (MMSA\'s Google Drive copies are known good).',
  },
  SMC6010: {
    title: 'a split (train/valid/test) is missing',
    what: 'An MMSA pickle is a dict with `train`, `valid` and `test` splits; one of them is missing, or the top level is not a dict.',
    example: ['python -c "import pickle; pickle.dump({\'train\': {...}}, open(\'x.pkl\', \'wb\'))" && smcirc train --data x.pkl'],
    fix: 'Use an MMSA feature pickle (MOSI/MOSEI/SIMS `Processed/*.pkl`), or add the missing split.',
  },
  SMC6011: {
    title: 'a required key is missing from a split',
    what: 'A split lacks a key the spec\'s inputs need (`id`, the text/vision/audio keys, the label key); the message lists the keys it has.',
    example: ['data { label = "labels" }          # but the pickle has `regression_labels`'],
    fix: 'Map each input to the pickle\'s key in the spec\'s `data` section (`label = "regression_labels"`), or use `--set data.label=regression_labels`.',
  },
  SMC6012: {
    title: 'array lengths disagree inside a split',
    what: 'Arrays of one split have different numbers of rows (samples), so samples cannot be matched up.',
    example: ['smcirc train --data edited.pkl          # train.vision has fewer rows than train.id'],
    fix: 'The file is inconsistent or was edited; use an unmodified MMSA pickle.',
  },
  SMC6013: {
    title: 'an array’s shape differs from what the spec expects',
    what: 'A modality\'s per-sample shape (time steps, features) differs from the spec\'s input shape, e.g. MOSEI data with a MOSI spec.',
    example: ['smcirc train specs/smcir.smcir --data MOSEI/Processed/unaligned_50.pkl'],
    fix: 'Use the matching spec (`specs/smcir-mosei.smcir`), or set the spec\'s dimensions: `--set d_V=35 --set d_A=74 --set T_A=500`.',
  },
  SMC6014: {
    title: 'shapes differ between splits',
    what: 'A modality has one per-sample shape in `train` and another in `valid` or `test`.',
    example: ['smcirc train --data mixed.pkl          # test.audio is (N, 375, 5), train.audio (N, 500, 74)'],
    fix: 'All splits must come from the same feature extraction; rebuild the file.',
  },
  SMC6015: {
    title: 'an array has the wrong rank or dtype for its key',
    what: 'An array is not what its key should hold: a modality that is not (N, T, d), non-numeric data, or ids that are not an array.',
    example: ['smcirc train --data time-averaged.pkl          # vision saved as (N, d)'],
    fix: 'smcirc needs the (N, T, d) sequences of MMSA\'s feature pickles, not time-averaged features.',
  },
  SMC6016: {
    title: 'token ids outside the vocabulary',
    what: 'The spec reads BERT token ids (`data { text_vocab = … }`), and the data holds an id that is not a whole number in [0, text_vocab), or an attention mask that is not 0 or 1. MMSA’s `text_bert` rows are [input_ids, attention_mask, token_type_ids].',
    example: ['data { text = "text_bert"  text_vocab = 30522 }   # with a text_bert made for another vocabulary'],
    fix: 'Use ids from the vocabulary the spec’s BERT was trained with (bert-base-uncased: 30522), or set `text_vocab` to the checkpoint’s vocab_size.',
  },
  SMC6020: {
    title: 'a converted (chunked) data folder is missing or inconsistent',
    what: 'A folder was given as `--data` that is not a converted dataset (no manifest.json), or its chunks do not match its manifest, or `data convert` would overwrite an existing one.',
    example: ['smcirc train --data MOSEI/          # the folder that holds Processed/unaligned_50.pkl'],
    fix: 'Point `--data` at the pickle itself or at a folder made by `smcirc data convert <pickle> <dir>`; convert again (`smcirc data convert --overwrite`) if the folder is damaged.',
  },
  SMC6030: {
    title: 'bad arguments to a data, metrics or protocol function',
    what: 'A data, metrics or test-protocol function got an argument outside its range: a batch size below 1, a missing rate outside [0, 1], an unknown test condition, a spec without text/vision/audio inputs and one target, or metrics over no samples.',
    example: ['smcirc eval runs/<run> --missing-rate 1.5'],
    fix: 'Pass a value in the range the message gives; conditions are L, V, A, LV, LA, VA, LVA.',
  },
};

/** Every code with its title and explanation. */
export const EXPLANATIONS: Record<string, Explanation> = { ...CATALOGUE, ...RUNTIME };

/** Every code with its one-line title. */
export const ERROR_CODES: Record<string, string> = Object.fromEntries(Object.entries(EXPLANATIONS).map(([code, e]) => [code, e.title]));
