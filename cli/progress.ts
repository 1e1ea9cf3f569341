// Training progress for a terminal: a live bar per epoch (loss, throughput, ETA) on a TTY, plain lines otherwise.

import type { EpochReport, ProgressSink } from '../runtime/train/loop.js';

/** 75 → "1m15s", 3700 → "1h01m". */
function duration(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressSink {
  const tty = stream.isTTY === true;
  let live = false;
  const clear = () => {
    if (live) stream.write('\r\x1b[K');
    live = false;
  };
  return {
    step(i) {
      if (!tty || quiet) return;
      const width = 24;
      const filled = Math.round((i.step / i.steps) * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      stream.write(`\r\x1b[Kepoch ${i.epoch} ${bar} ${i.step}/${i.steps}  loss ${i.loss.toFixed(4)}  ${i.samplesPerSecond.toFixed(1)} samples/s  ETA ${Math.ceil(i.etaSeconds)}s`);
      live = true;
    },
    epoch(r: EpochReport) {
      clear();
      if (quiet) return;
      const eta = r.runEtaSeconds && r.runEtaSeconds > 0 ? `  run ETA ≤ ${duration(r.runEtaSeconds)}` : '';
      stream.write(`epoch ${String(r.epoch).padStart(3)}  train loss ${r.trainLoss.toFixed(4)}  valid L1 ${r.validL1.toFixed(4)}${r.best ? ' *' : '  '}  ${r.samplesPerSecond.toFixed(1)} samples/s  ${r.seconds.toFixed(1)}s${eta}\n`);
    },
    message(line: string) {
      clear();
      if (!quiet) stream.write(`${line}\n`);
    },
  };
}
