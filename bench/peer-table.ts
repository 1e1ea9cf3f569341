// The peer section's Markdown: smcirc's train step next to PyTorch eager's at the same size, with the ratio peer time /
// smcirc time (> 1: smcirc is faster), peak memory on both sides, and whether both sides computed the same first-step
// loss and gradient norm from the same weights and batch. On a software adapter (lavapipe runs on the CPU) smcirc is
// measured per CPU thread count too, and each PyTorch row is divided by the smcirc row with its thread count.
// Pure: bench/peer.ts measures, this formats.
import type { PeerFigure } from './peer-python.js';
import type { SmcircFigure } from './peer-smcirc.js';

export interface PeerFailure {
  error: string;
  threads: number;
}

export type SmcircRow = SmcircFigure | PeerFailure;
export type PeerRow = PeerFigure | (PeerFailure & { form: string });

export interface PeerSizeResult {
  /** The spec's name, e.g. smcir-tiny. */
  label: string;
  batch: number;
  /** One per llvmpipe thread count on a software adapter; one on a hardware one. */
  smcirc: SmcircRow[];
  /** One per form and torch thread count. */
  peers: PeerRow[];
}

const failed = (x: object): x is PeerFailure => 'error' in x;
const ok = (xs: SmcircRow[]): SmcircFigure[] => xs.filter((x): x is SmcircFigure => !failed(x));

/** peer / smcirc, printed with the precision its size needs. */
export function formatRatio(peerMs: number, smcircMs: number): string {
  if (!(peerMs > 0) || !(smcircMs > 0)) return '—';
  const r = peerMs / smcircMs;
  return `${r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

/** The smcirc figure a PyTorch row is compared with: same CPU thread count on a software adapter, else the first. */
export function baselineFor(smcirc: SmcircRow[], threads: number): SmcircFigure | undefined {
  return ok(smcirc).find((s) => !s.software || s.threads === threads);
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const mb = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(0));
const range = (lo: number | undefined, hi: number | undefined): string => (lo === undefined || hi === undefined ? '—' : `${ms(lo)}–${ms(hi)}`);
const cell = (s: string): string => s.replace(/\|/g, '/').replace(/\n/g, ' ');

/** |a − b| / max(|a|, |b|), 0 when both are 0. */
export function relDiff(a: number, b: number): number {
  const s = Math.max(Math.abs(a), Math.abs(b));
  return s === 0 ? 0 : Math.abs(a - b) / s;
}

/** Tolerances of the same-model check: f32 on both sides, different summation orders. */
export const LOSS_RTOL = 1e-4;
export const GRAD_NORM_RTOL = 1e-3;

const threadsOf = (x: SmcircRow | PeerRow): number | undefined => ('software' in x && !x.software ? undefined : x.threads);

export function formatPeerTable(results: PeerSizeResult[]): string[] {
  const out = [
    '| model | batch | implementation | CPU threads | ms/step (median) | min–max | peer / smcirc | peak RSS MiB | GPU buffers / CUDA peak MiB | first-step loss |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    // thread groups, most threads first: smcirc's row, then PyTorch's at that count
    const rows: (SmcircRow | PeerRow)[] = [...r.smcirc, ...r.peers];
    const order = (x: SmcircRow | PeerRow): number => -(threadsOf(x) ?? Infinity);
    rows.sort((a, b) => order(a) - order(b) || Number('form' in a) - Number('form' in b));
    for (const x of rows) {
      const head = `| ${r.label} | ${r.batch} |`;
      const th = threadsOf(x) ?? '—';
      if (!('form' in x)) {
        if (failed(x)) out.push(`${head} smcirc: failed (${cell(x.error)}) | ${th} | | | | | | |`);
        else out.push(`${head} smcirc (${x.adapter.split(':')[0]}, fused, ${x.dispatches} dispatches) | ${th} | **${ms(x.msPerStep)}** | ${range(x.msPerStepMin, x.msPerStepMax)} | 1 | ${mb(x.peakRssMb)} | ${mb(x.gpuBufferBytes / 2 ** 20)} | ${x.lossFirstStep.toFixed(6)} |`);
        continue;
      }
      if (failed(x)) {
        out.push(`${head} PyTorch eager, ${x.form}: failed (${cell(x.error)}) | ${th} | | | | | | |`);
        continue;
      }
      const t = x.seconds_per_step_median * 1000;
      const base = baselineFor(r.smcirc, x.threads);
      const what = `PyTorch ${x.torch} eager ${x.device}, ${x.form === 'per-sample' ? 'per-sample (released code)' : 'batched (smcirc\'s form)'}`;
      const lo = x.seconds_per_step_min === undefined ? undefined : x.seconds_per_step_min * 1000;
      const hi = x.seconds_per_step_max === undefined ? undefined : x.seconds_per_step_max * 1000;
      out.push(`${head} ${what} | ${th} | ${ms(t)} | ${range(lo, hi)} | ${base ? formatRatio(t, base.msPerStep) : '—'} | ${mb(x.peak_rss_mb)} | ${mb(x.peak_cuda_mb)} | ${x.loss_first_step.toFixed(6)} |`);
    }
  }
  return out;
}

/** Per size, one line: do both sides compute the same first step (loss, gradient norm, DMFD flags)? */
export function formatSameModel(results: PeerSizeResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const s = ok(r.smcirc)[0];
    const peers = r.peers.filter((p): p is PeerFigure => !failed(p));
    if (!s || !peers.length) {
      lines.push(`${r.label}: same-model check not made (${!s ? 'smcirc failed' : 'no PyTorch result'})`);
      continue;
    }
    const worstLoss = Math.max(...peers.map((p) => relDiff(p.loss_first_step, s.lossFirstStep)));
    const norms = peers.filter((p) => p.grad_norm_first_step !== undefined);
    const worstNorm = norms.length ? Math.max(...norms.map((p) => relDiff(p.grad_norm_first_step!, s.gradNormFirstStep))) : undefined;
    const same = worstLoss <= LOSS_RTOL && (worstNorm === undefined || worstNorm <= GRAD_NORM_RTOL);
    const flags = (f: { vision: number; audio: number; both: number } | undefined): string => (f ? `${f.vision}/${f.audio}/${f.both}` : '?');
    const uniq = (xs: string[]): string => [...new Set(xs)].join(', ');
    lines.push(`${r.label}: first-step loss smcirc ${s.lossFirstStep.toPrecision(8)} vs PyTorch ${uniq(peers.map((p) => p.loss_first_step.toPrecision(8)))} ` +
      `(worst rel. diff ${worstLoss.toExponential(1)}), gradient norm ${s.gradNormFirstStep.toPrecision(6)} vs ${uniq(norms.map((p) => p.grad_norm_first_step!.toPrecision(6))) || '?'}` +
      `${worstNorm === undefined ? '' : ` (${worstNorm.toExponential(1)})`}, DMFD flagged vision/audio/both ${flags(s.flagged)} vs ${uniq(peers.map((p) => flags(p.flagged_first_step)))}: ` +
      `${same ? 'the same model' : 'DIFFERENT — the peer is not computing smcirc\'s step'}`);
  }
  return lines;
}
