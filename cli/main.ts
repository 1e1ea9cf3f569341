// The `smcirc` command line: commander wiring of the subcommands; usage errors exit with code 2.

import { Command, CommanderError, Option } from 'commander';
import { runCheck } from './commands/check.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new CommanderError(2, 'smcirc.usage', `expected a positive whole number, got "${v}"`);
  return n;
};

export function buildProgram(): Command {
  const program = new Command('smcirc')
    .description('Compile .smcir specs of SMCIR multimodal sentiment models to WGSL, and train and evaluate them on a GPU through Dawn')
    .version('0.1.0')
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
    throw e;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
