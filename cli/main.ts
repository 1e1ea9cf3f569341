// The `smcirc` command line: commander wiring of the subcommands; usage errors exit with code 2.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runCheck } from './commands/check.js';
import { reportError } from './errors.js';
import { SMCIRC_VERSION } from '../runtime/abi/version.js';

const backendOption = () =>
  new Option('--backend <name>', 'auto (the GPU when Dawn finds an adapter, else the CPU), gpu (Dawn/WebGPU), or reference (CPU interpreter)')
    .choices(['auto', 'gpu', 'reference'])
    .default('auto');
const splitOption = () => new Option('--split <name>', 'which split to evaluate').choices(['test', 'valid', 'train']).default('test');
const statsOption = () => new Option('--dmfd-stats <mode>', 'DMFD threshold statistics: over the whole split (population) or per batch').choices(['batch', 'population']);

const collect = (v: string, prev: string[] = []) => [...prev, v];
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive whole number, got "${v}"`);
  return n;
};

export function buildProgram(): Command {
  const program = new Command('smcirc')
    .description('Compile .smcir specs of SMCIR multimodal sentiment models to WGSL, and train and evaluate them on a GPU through Dawn')
    .version(SMCIRC_VERSION)
    .exitOverride()
    .showHelpAfterError('(run `smcirc help <command>` for usage)');

  program
    .command('check')
    .description('parse and shape-check a spec; print diagnostics, or a summary of inputs, outputs and parameters')
    .argument('<spec>', '.smcir file')
    .option('--set <name=value>', 'override a constant (eta=0.4) or a setting (train.lr=1e-3); repeatable', collect, [])
    .addOption(new Option('--batch <n>', 'batch size to check with (default: train.batch_size)').argParser(positiveInt))
    .action((spec: string, o: { set: string[]; batch?: number }) => {
      process.exitCode = runCheck(spec, { set: o.set, batch: o.batch });
    });

  program
    .command('compile')
    .description('compile a spec to a runnable bundle: glue (.ts + .js), one .wgsl per kernel, manifest.json')
    .argument('<spec>', '.smcir file')
    .requiredOption('-o, --out <dir>', 'bundle folder')
    .option('--set <name=value>', 'override a constant or a setting; repeatable', collect, [])
    .option('--target <target>', 'what to compile for: default (WebGPU default limits, runs on any adapter), software (lavapipe), or a limits .json file', 'default')
    .option('--no-route', 'run each generator on every sample instead of only the flagged ones (sample routing off; for comparison)')
    .action(async (spec: string, o) => {
      const { runCompile } = await import('./commands/compile.js');
      process.exitCode = await runCompile(spec, o);
    });

  program
    .command('train')
    .description('train a spec (default: specs/smcir-tiny.smcir) on MMSA data or the built-in synthetic set')
    .argument('[spec]', '.smcir spec or a bundle folder from `smcirc compile`')
    .option('--data <file>', 'MMSA pickle (aligned_50.pkl / unaligned_50.pkl) or a folder from `smcirc data convert`; default: built-in synthetic data')
    .option('--set <name=value>', 'override a constant or a setting; repeatable', collect, [])
    .option('--seed <n>', 'one seed (default: train.seeds)')
    .option('--seeds <list>', 'several seeds: 1111-1115 or 1111,1112')
    .option('--out <dir>', 'run folder (default: runs/<spec>-<time>)')
    .option('--resume <dir>', 'continue an interrupted run from its last checkpoint')
    .addOption(backendOption())
    .addOption(new Option('--max-steps <n>', 'stop after n train steps (smoke tests)').argParser(positiveInt))
    .addOption(new Option('--max-epochs <n>', 'cap the number of epochs').argParser(positiveInt))
    .option('--dump-wgsl <dir>', 'write the WGSL of every kernel to this folder')
    .option('--validate', 'run every GPU kernel against the reference interpreter and stop at the first that disagrees')
    .option('--recompile', 'with a bundle: compile its spec for this adapter instead of running the bundle’s own kernels')
    .option('--no-route', 'run each generator on every sample instead of only the flagged ones (sample routing off; for comparison)')
    .option('--init <member=folder>', 'start a member from pretrained weights, e.g. bert=path/to/bert-base-uncased (Hugging Face folder); repeatable', collect, [])
    .option('--quiet', 'print only the run folder')
    .action(async (spec: string | undefined, o, cmd: Command) => {
      const { runTrain } = await import('./commands/train.js');
      process.exitCode = await runTrain(spec, { ...o, backendGiven: cmd.getOptionValueSource('backend') === 'cli' });
    });

  /** Options shared by the commands that evaluate a trained model. */
  const evaluating = (cmd: Command): Command =>
    cmd
      .argument('<run>', 'run folder from `smcirc train`, or a .safetensors checkpoint (with --spec)')
      .option('--spec <file>', 'spec of a bare checkpoint')
      .option('--data <file>', 'MMSA pickle; default: the data the run trained on')
      .option('--set <name=value>', 'override a constant or a setting; repeatable', collect, [])
      .addOption(new Option('--seed <n>', 'which seed of the run').argParser(positiveInt))
      .addOption(splitOption())
      .addOption(new Option('--batch-size <n>', 'evaluation batch size').argParser(positiveInt))
      .addOption(statsOption())
      .addOption(backendOption())
      .option('--allow-other-spec', 'evaluate a checkpoint that records another spec than the one given (with a warning)');

  evaluating(program
    .command('eval')
    .description('MMSA metrics per test condition for a run folder or a checkpoint'))
    .option('--conditions <list>', 'modalities kept, e.g. L,LV,LA,LVA (default: eval.conditions)')
    .option('--missing-rate <r>', 'also drop frames (tokens for BERT ids) at this rate (MMSA/TFR-Net masks), or along a curve from:to:step with its AUILC')
    .option('--mmsa-csv <file>', 'append the mean ± std over seeds as rows of MMSA’s results CSV')
    .option('--json <file>', 'write the results as JSON')
    .option('--csv <file>', 'write the results as CSV')
    .action(async (run: string, o) => {
      const { runEval } = await import('./commands/eval.js');
      process.exitCode = await runEval(run, o);
    });

  evaluating(program
    .command('diagnose')
    .description('per-sample DMFD states, the missing-rate summary (paper Fig. 3), and flag precision/recall on planted missingness'))
    .option('--conditions <list>', 'modalities kept, e.g. L,LV,LA,LVA (default: LVA)')
    .option('--csv <file>', 'write per-sample scores and states as CSV')
    .option('--json <file>', 'write the summary as JSON')
    .action(async (run: string, o) => {
      const { runDiagnose } = await import('./commands/diagnose.js');
      process.exitCode = await runDiagnose(run, o);
    });

  program
    .command('report')
    .description('one self-contained report.html (run.json fields, mean ± std table, figures) plus each figure as SVG, for one run or several side by side')
    .argument('<runs...>', 'run folders from `smcirc train` (several: compared side by side, labelled by folder name)')
    .option('-o, --out <dir>', 'output folder (default: <run>/report for one run, runs/report-<time> for several)')
    .action(async (runs: string[], o: { out?: string }) => {
      const { runReport } = await import('./commands/report.js');
      process.exitCode = await runReport(runs, o);
    });

  program
    .command('sweep')
    .description('train specs × data × grid values × seeds, one run folder per cell, in a local pool of processes or as a Slurm job array; rerun to continue')
    .argument('[specs...]', '.smcir specs (rows of the table)')
    .option('--out <dir>', 'sweep folder (required; the same command again continues it)')
    .option('--seeds <list>', 'seeds: 1111-1115 or 1111,1112 (default: the first spec’s train.seeds)')
    .option('--data <file>', 'MMSA pickle or converted folder, or `synthetic`; repeat for an axis over data sets (default: synthetic)', collect, [])
    .option('--set <name=value>', 'override for every cell, as in `train` (a comma list stays one list value); repeatable', collect, [])
    .option('--grid <name=v1,v2>', 'an axis: one cell per value (values split at | instead when one is itself a list); repeatable', collect, [])
    .addOption(new Option('--jobs <n>', 'cells at once (default: cores/2 on the CPU interpreter, 1 on a GPU); with --slurm, array tasks at once').argParser(positiveInt))
    .addOption(backendOption())
    .addOption(new Option('--max-epochs <n>', 'cap the epochs of every cell').argParser(positiveInt))
    .addOption(new Option('--max-steps <n>', 'stop every cell after n train steps (smoke tests)').argParser(positiveInt))
    .option('--plan', 'write sweep.json and list the cells and their state; run nothing')
    .option('--worker <dir>', 'claim and run cells of an existing sweep folder until none is left (what Slurm tasks run)')
    .option('--slurm', 'write a job-array script (<out>/slurm/sweep.sbatch) whose tasks are workers, instead of running locally')
    .option('--sbatch-arg <arg>', 'an #SBATCH option for the script, e.g. --sbatch-arg=--gres=gpu:1; repeatable', collect, [])
    .option('--submit', 'with --slurm: submit the script with sbatch')
    .option('--wait', 'with --submit: wait until the job array has ended, then summarise')
    .action(async (specs: string[], o) => {
      const { runSweep } = await import('./commands/sweep.js');
      process.exitCode = await runSweep(specs, o);
    });

  program
    .command('table')
    .description('the paper-shaped table of a sweep: mean ± std over seeds per row, test condition and metric (Markdown, CSV or LaTeX)')
    .argument('<sweep>', 'sweep folder from `smcirc sweep`')
    .option('--metrics <list>', 'metrics (default: Has0_acc_2,Has0_F1_score,Mult_acc_7,MAE,Corr; `all` for all eight)')
    .option('--conditions <list>', 'test conditions, e.g. LVA,L (default: all in the results)')
    .addOption(new Option('--format <f>', 'md (default; csv or latex when -o ends in .csv or .tex)').choices(['md', 'csv', 'latex']))
    .option('-o, --output <file>', 'write to a file instead of printing')
    .action(async (dir: string, o) => {
      const { runTable } = await import('./commands/table.js');
      process.exitCode = runTable(dir, o);
    });

  program
    .command('inspect')
    .description('op counts by kind, the parameter table, and the forward and train-step graph sizes')
    .argument('<spec>', '.smcir file')
    .option('--set <name=value>', 'override a constant or a setting; repeatable', collect, [])
    .option('--graph', 'print the graph report (the default)')
    .action(async (spec: string, o: { set: string[] }) => {
      const { runInspect } = await import('./commands/inspect.js');
      process.exitCode = await runInspect(spec, o);
    });

  program
    .command('profile')
    .description('per-kernel timings of one GPU train step (timestamp queries where the adapter has them)')
    .argument('[spec]', '.smcir file (default: specs/smcir-tiny.smcir)')
    .option('--set <name=value>', 'override a constant or a setting; repeatable', collect, [])
    .option('--data <file>', 'MMSA pickle for the batch; default: built-in synthetic')
    .addOption(new Option('--top <n>', 'how many kernels to list').argParser(positiveInt).default(20))
    .option('--no-route', 'run each generator on every sample instead of only the flagged ones (sample routing off; for comparison)')
    .action(async (spec: string | undefined, o) => {
      const { runProfile } = await import('./commands/profile.js');
      const { defaultSpec } = await import('./paths.js');
      process.exitCode = await runProfile(spec ?? defaultSpec(), o);
    });

  const data = program.command('data').description('data utilities');
  data
    .command('convert')
    .description('convert an MMSA pickle (any size, e.g. MOSEI) to a chunked folder that training reads lazily')
    .argument('<pickle>', 'MMSA pickle')
    .argument('<dir>', 'output folder')
    .option('--overwrite', 'replace an existing folder')
    .action(async (src: string, dst: string, o: { overwrite?: boolean }) => {
      const { convertPickleToChunked } = await import('../runtime/data/index.js');
      const m = convertPickleToChunked(src, dst, { overwrite: o.overwrite });
      process.stdout.write(`${dst}: ${Object.entries(m.splits).map(([k, v]) => `${k} ${(v as { n: number }).n}`).join(', ')}\n`);
    });

  program
    .command('doctor')
    .description('what this machine offers: Node, the Vulkan driver, the WebGPU adapter (exit 1 without one)')
    .action(async () => {
      const { runDoctor } = await import('./commands/doctor.js');
      process.exitCode = await runDoctor();
    });

  program
    .command('stdlib')
    .description('list the layers, functions and initialisers a spec can use, with their parameters')
    .action(async () => {
      const { runStdlib } = await import('./commands/stdlib.js');
      process.exitCode = runStdlib();
    });

  program
    .command('explain')
    .description('explain an error code: what went wrong, an example, the fix (SMC3001, smcir3001 or 3001); no code: list them all')
    .argument('[code]')
    .action(async (code: string | undefined) => {
      const { runExplain } = await import('./commands/explain.js');
      process.exitCode = runExplain(code);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    return reportError(e);
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
