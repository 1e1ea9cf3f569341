// report.html: one self-contained page (inline CSS and SVG, no scripts, no external URLs) with the run.json fields,
// the per-seed files, the mean ± std table, the figures, and the figure data as a JSON block for re-use and tests.

import { METRICS, type RunRecord } from './read-run.js';
import type { FigureData, NotRecorded } from './figure-data.js';
import { detectionRows, metricScale, type Figure } from './figures.js';

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** run.json's fields flattened to dotted names (`git.commit`), values as text. */
export function flattenFields(o: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(o).flatMap(([k, v]): [string, string][] => {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) return flattenFields(v as Record<string, unknown>, name);
    if (Array.isArray(v)) return [[name, v.every((x) => x === null || typeof x !== 'object') ? v.join(name === 'command' ? ' ' : ', ') : JSON.stringify(v)]];
    return [[name, v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)]];
  });
}

/** run.json as tables: its top-level values (and, for several runs, every nested field on which they differ), then
 *  every field, nested ones flattened (`constants.eta`), in a closed <details>. */
function runJsonTables(runs: RunRecord[]): string {
  const fields = runs.map((r) => new Map(flattenFields(r.manifest)));
  const names: string[] = [];
  for (const f of fields) for (const k of f.keys()) if (!names.includes(k)) names.push(k);
  const differs = (n: string) => runs.length > 1 && new Set(fields.map((f) => f.get(n))).size > 1;
  const head = `<tr><th>field</th>${runs.map((r) => `<th>${esc(r.name)}</th>`).join('')}</tr>`;
  const row = (n: string) =>
    `<tr${differs(n) ? ' class="differs"' : ''}><th scope="row"><code>${esc(n)}</code></th>${fields.map((f) => `<td>${f.has(n) ? esc(f.get(n)!) || '<span class="muted">(empty)</span>' : '<span class="muted">—</span>'}</td>`).join('')}</tr>`;
  const main = names.filter((n) => !n.includes('.') || differs(n));
  const nested = names.filter((n) => n.includes('.'));
  const caption = `run.json: ${runs.length > 1 ? 'top-level fields and every field on which the runs differ (highlighted)' : 'top-level fields'}`;
  return (
    `<table class="fields" id="run-json"><caption>${caption}</caption><thead>${head}</thead><tbody>${main.map(row).join('')}</tbody></table>` +
    (nested.length > 0
      ? `\n<details><summary>All ${names.length} run.json fields, nested ones flattened</summary><table class="fields" id="run-json-all"><thead>${head}</thead><tbody>${names.map(row).join('')}</tbody></table></details>`
      : '')
  );
}

const status = (o: { value: unknown } | { absent: string }) => ('value' in o ? 'recorded' : o.absent);
const cellStatus = (s: string) => `<td class="${s === 'recorded' ? 'ok' : 'not-recorded'}">${esc(s)}</td>`;

function seedsTable(runs: RunRecord[]): string {
  const several = runs.length > 1;
  const head = `<tr>${several ? '<th>run</th>' : ''}<th>seed</th><th>epochs</th><th>steps</th><th>best epoch</th><th>best valid L1</th><th>history</th><th>DMFD scores</th><th>DMFD thresholds</th><th>missing-rate curve</th></tr>`;
  const rows = runs.flatMap((r) =>
    r.seeds.map((s) => {
      const epochs = 'value' in s.epochs ? s.epochs.value.rows.length : undefined;
      const steps = 'value' in s.steps ? s.steps.value.rows.length : undefined;
      const history = status(s.steps) === 'recorded' && status(s.epochs) === 'recorded' ? 'recorded' : status(s.steps) !== 'recorded' ? status(s.steps) : status(s.epochs);
      return `<tr>${several ? `<td>${esc(r.name)}</td>` : ''}<td>${s.seed}</td><td>${epochs ?? '—'}</td><td>${steps ?? '—'}</td><td>${s.best?.epoch ?? '—'}</td><td>${s.best?.valid_l1?.toFixed(4) ?? '—'}</td>${cellStatus(history)}${cellStatus(status(s.dmfdScores))}${cellStatus(status(s.dmfdThresholds))}${cellStatus(status(s.missingCurve))}</tr>`;
    }),
  );
  return `<table class="seeds" id="seeds"><caption>Seeds and the files each recorded</caption><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The paper's style: accuracies and F1 ×100 (2 places), MAE and Corr as they are (3 places). */
export const formatMeanStd = (metric: string, mean: number, std: number): string => {
  const k = metricScale(metric);
  const d = k === 1 ? 3 : 2;
  return `${(mean * k).toFixed(d)} ± ${(std * k).toFixed(d)}`;
};

function metricsTable(fd: FigureData, conditions: string[]): string {
  const several = fd.runs.length > 1;
  const head = `<tr><th>condition</th>${several ? '<th>run</th>' : ''}${METRICS.map((m) => `<th>${esc(m)}${metricScale(m) === 100 ? ' <span class="muted">×100</span>' : ''}</th>`).join('')}</tr>`;
  const rows = conditions.flatMap((c) =>
    fd.runs.flatMap((r) => {
      const ms = fd.test_metrics.filter((m) => m.run === r.name && m.condition === c);
      if (ms.length === 0) return [];
      const cells = METRICS.map((m) => {
        const v = ms.find((x) => x.metric === m);
        return v ? `<td data-metric="${m}" data-mean="${v.mean}" data-std="${v.std}">${formatMeanStd(m, v.mean, v.std)}</td>` : '<td>—</td>';
      });
      return [`<tr data-run="${esc(r.name)}" data-condition="${esc(c)}"><th scope="row">${esc(c)}</th>${several ? `<td class="run">${esc(r.name)}</td>` : ''}${cells.join('')}</tr>`];
    }),
  );
  const seeds = [...new Set(fd.test_metrics.map((m) => m.seeds))].join(' / ');
  return `<table class="metrics" id="test-metrics-table"><caption>Test metrics, mean ± std over ${esc(seeds)} seed(s) (population std, as results.json)</caption><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function detectionTable(fd: FigureData, run: string, conditions: string[]): string {
  const rows = detectionRows(fd, run);
  const cell = (c: string, mod: string, measure: string) => {
    const r = rows.find((x) => x.condition === c && x.modality === mod && x.measure === measure);
    return r ? `<td>${r.mean.toFixed(3)} ± ${r.std.toFixed(3)}</td>` : '<td class="muted">undefined</td>';
  };
  const mods = ['vision', 'audio'].filter((m) => rows.some((r) => r.modality === m));
  const head = `<tr><th>condition</th>${mods.map((m) => `<th>${m} precision</th><th>${m} recall</th>`).join('')}</tr>`;
  const body = conditions.filter((c) => rows.some((r) => r.condition === c)).map((c) => `<tr><th scope="row">${esc(c)}</th>${mods.map((m) => cell(c, m, 'precision') + cell(c, m, 'recall')).join('')}</tr>`);
  return `<table class="detection" data-run="${esc(run)}"><caption>DMFD flags against the planted missingness${fd.runs.length > 1 ? ` — ${esc(run)}` : ''} (mean ± std over seeds)</caption><thead>${head}</thead><tbody>${body.join('')}</tbody></table>`;
}

export interface RenderedFigure extends Figure {
  number: string;
  svg: string;
}

function figureBlock(f: RenderedFigure): string {
  return `<figure class="figure" id="${f.id}" data-figure="${f.id}" data-data="${f.data.join(' ')}"${f.run ? ` data-run="${esc(f.run)}"` : ''}>
<div class="svg">${f.svg.replace(/^<\?xml[^>]*>\s*/, '')}</div>
<figcaption><b>Figure ${f.number}.</b> ${esc(f.title)}. ${esc(f.caption)} <a href="${f.id}.svg">${f.id}.svg</a></figcaption>
</figure>`;
}

/** "not recorded" notes for one kind of file: which runs and seeds lack it. */
function notRecordedNote(what: string, items: NotRecorded[]): string {
  if (items.length === 0) return '';
  const list = items.map((n) => `${n.run}${n.seed !== undefined ? ` seed ${n.seed}` : ''}${n.why === 'not recorded' ? '' : `: ${n.why}`}`);
  const why = items.every((n) => n.why === 'not recorded') ? 'not recorded' : 'not recorded or unreadable';
  return `<p class="not-recorded" data-file="${esc(items[0]!.file.replace(/^seed-\d+\//, ''))}">${esc(what)}: ${why} (${esc(list.join('; '))}).</p>`;
}

const CSS = `
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; margin: 24px 32px; color: #222; line-height: 1.4; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
nav a { margin-right: 14px; } .muted { color: #888; } code { font-size: 13px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; } caption { text-align: left; font-weight: bold; padding-bottom: 4px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; } thead th { background: #f4f4f4; }
table.fields td { max-width: 560px; overflow-wrap: anywhere; } tr.differs td { background: #fff6d5; } details { margin: 8px 0; } summary { cursor: pointer; }
table.metrics td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } table.metrics td.run { text-align: left; }
td.ok { color: #2a7a2a; } td.not-recorded, p.not-recorded { color: #a04000; }
figure { margin: 16px 0 28px; } .svg { overflow-x: auto; } figcaption { font-size: 13px; max-width: 1100px; }
`;

export interface PageInput {
  runs: RunRecord[];
  fd: FigureData;
  conditions: string[];
  figures: RenderedFigure[];
  generated: string;
}

export function reportHtml(p: PageInput): string {
  const { runs, fd, conditions, figures } = p;
  const fig = (prefix: string) => figures.filter((f) => f.id.startsWith(prefix)).map(figureBlock).join('\n');
  const missing = (file: string) => fd.not_recorded.filter((n) => n.file.endsWith(file));
  const allMissing = (file: string) => runs.every((r) => r.seeds.every((s) => missing(file).some((n) => n.run === r.name && n.seed === s.seed)));
  const dmfdTables = fd.runs.filter((r) => fd.dmfd_detection.some((d) => d.run === r.name)).map((r) => detectionTable(fd, r.name, conditions)).join('\n');
  const truthNote =
    fd.dmfd_scores.length > 0 && fd.dmfd_detection.length === 0
      ? '<p class="not-recorded" data-file="true_missing">Detection precision and recall: not recorded (the true_missing columns are empty: the data has no planted missingness).</p>'
      : '';
  const json = JSON.stringify(fd).replace(/</g, '\\u003c');
  const title = `smcirc report: ${runs.map((r) => r.name).join(', ')}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="muted">Generated by <code>smcirc report</code> on ${esc(p.generated)} from ${runs.map((r) => `<code>${esc(r.dir)}</code>`).join(', ')}.</p>
<nav><a href="#runs">Runs</a><a href="#training">Training</a><a href="#test-metrics">Test metrics</a><a href="#dmfd">DMFD</a><a href="#missing-curve">Missing rate</a></nav>
</header>
<section id="runs">
<h2>Runs</h2>
${runJsonTables(runs)}
${seedsTable(runs)}
</section>
<section id="training">
<h2>Training</h2>
${fig('fig1-') || '<p class="not-recorded" data-file="history">Training history: not recorded (no history-steps.csv or history-epochs.csv).</p>'}
${allMissing('history-steps.csv') ? '' : notRecordedNote('Training history (per step)', missing('history-steps.csv'))}
${allMissing('history-epochs.csv') ? '' : notRecordedNote('Training history (per epoch)', missing('history-epochs.csv'))}
</section>
<section id="test-metrics">
<h2>Test metrics</h2>
${fd.test_metrics.length > 0 ? metricsTable(fd, conditions) : ''}
${notRecordedNote('Test results', missing('results.json').filter((n) => n.seed === undefined))}
${fig('fig2-')}
</section>
<section id="dmfd">
<h2>DMFD</h2>
${fig('fig3-')}
${fig('fig4-')}
${notRecordedNote('DMFD scores (dmfd-scores.csv)', missing('dmfd-scores.csv'))}
${notRecordedNote('DMFD thresholds (dmfd-thresholds.json)', missing('dmfd-thresholds.json'))}
${dmfdTables}
${fig('fig4b-')}
${truthNote}
</section>
<section id="missing-curve">
<h2>Metrics vs missing rate</h2>
${fig('fig5-')}
${notRecordedNote('Missing-rate curve (missing-curve.json)', missing('missing-curve.json'))}
</section>
<script type="application/json" id="figure-data">${json}</script>
</body>
</html>
`;
}
