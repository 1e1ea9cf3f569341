// `smcirc report`: reads one or more run folders and writes report.html (self-contained) plus each figure as SVG.

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { conditionOrder, figureData, type FigureData } from './figure-data.js';
import { detectionFigure, flaggedFigure, missingCurveFigure, scoresFigure, testMetricsFigure, trainingFigure, type Figure } from './figures.js';
import { reportHtml, type RenderedFigure } from './html.js';
import { labelRuns, readRun } from './read-run.js';
import { renderSvg } from './render.js';
import { makeDirs } from '../fs.js';

export { ReportError } from './read-run.js';

export interface ReportResult {
  html: string;
  svgs: string[];
  data: FigureData;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** The figures the data allows, numbered as in the report (1 training … 5 missing-rate curve). */
export function reportFigures(fd: FigureData, conditions: string[]): (Figure & { number: string })[] {
  const out: (Figure & { number: string })[] = [];
  if (fd.training.steps.length + fd.training.epochs.length > 0) out.push({ ...trainingFigure(fd), number: '1' });
  if (fd.test_metrics.length > 0) out.push({ ...testMetricsFigure(fd, conditions), number: '2' });
  if (fd.dmfd_flagged.length > 0) out.push({ ...flaggedFigure(fd, conditions), number: '3' });
  const several = fd.runs.length > 1;
  fd.runs.forEach((r, i) => {
    const suffix = several ? `-${safe(r.name)}` : '';
    const n = (k: string) => (several ? `${k}.${i + 1}` : k);
    if (fd.dmfd_scores.some((s) => s.run === r.name)) out.push({ ...scoresFigure(fd, r.name, conditions, suffix), number: n('4') });
    if (fd.dmfd_detection.some((s) => s.run === r.name)) out.push({ ...detectionFigure(fd, r.name, conditions, suffix), number: several ? `4b.${i + 1}` : '4b' });
    if (fd.missing_curve.some((s) => s.run === r.name)) out.push({ ...missingCurveFigure(fd, r.name, suffix), number: n('5') });
  });
  return out;
}

export async function writeReport(runDirs: string[], outDir: string, o: { now?: Date } = {}): Promise<ReportResult> {
  const runs = runDirs.map(readRun);
  labelRuns(runs);
  const fd = figureData(runs);
  const conditions = conditionOrder(runs);
  const figures: RenderedFigure[] = [];
  for (const f of reportFigures(fd, conditions)) figures.push({ ...f, svg: await renderSvg(f.spec, f.id) });
  const dir = resolve(outDir);
  makeDirs(dir);
  const svgs = figures.map((f) => {
    const p = join(dir, `${f.id}.svg`);
    writeFileSync(p, f.svg);
    return p;
  });
  const html = join(dir, 'report.html');
  writeFileSync(html, reportHtml({ runs, fd, conditions, figures, generated: (o.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z') }));
  return { html, svgs, data: fd };
}
