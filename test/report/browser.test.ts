// report.html in headless Chromium (Debian's binary driven by playwright-core), opened from disk: no console errors
// and no requests beyond the file itself, every figure a visible SVG with the marks and axis titles it should have;
// screenshots go to test-artifacts/. Without Chromium this says why and skips (fails under SMCIRC_REQUIRE_GPU=1).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeReport } from '../../runtime/report/report.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../helpers/chromium-gate.js';
import { CONDITIONS, writeRunFixture } from './fixture.js';

const reason = chromiumSkipReason('report browser tests');
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const tmp = mkdtempSync(join(tmpdir(), 'smcirc-report-browser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface FigureView {
  id: string;
  width: number;
  height: number;
  rects: number;
  lines: number;
  rules: number;
  symbols: number;
  axisTitles: string[];
  text: string;
}

interface PageView {
  figures: FigureView[];
  errors: string[];
  requests: string[];
  notRecorded: string[];
}

/** Opens `html` in Chromium, collects what each figure shows, and saves a full-page screenshot to `png`. */
async function look(html: string, png: string): Promise<PageView> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && errors.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    const figures = await page.$$eval('figure.figure', (els) =>
      els.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        const count = (sel: string) => svg?.querySelectorAll(sel).length ?? 0;
        return {
          id: f.id,
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          rects: count('.mark-rect.role-mark path'),
          lines: count('.mark-line.role-mark path'),
          rules: count('.mark-rule.role-mark line'),
          symbols: count('.mark-symbol.role-mark path'),
          axisTitles: [...(svg?.querySelectorAll('.role-axis-title text') ?? [])].map((t) => t.textContent ?? ''),
          text: svg?.textContent ?? '',
        };
      }),
    );
    const notRecorded = await page.$$eval('.not-recorded', (els) => els.map((e) => e.textContent ?? ''));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: png, fullPage: true });
    return { figures, errors, requests, notRecorded };
  } finally {
    await browser.close();
  }
}

describe.skipIf(!!reason)('report.html in Chromium', () => {
  let one: PageView;
  let two: PageView;
  let oneHtml: string;

  beforeAll(async () => {
    writeRunFixture(join(tmp, 'smcir'), { seeds: [1111, 1112] });
    writeRunFixture(join(tmp, 'no-msse'), { seeds: [1111, 1112], offset: 0.05, thresholds: 'stats', truth: false, curve: false });
    oneHtml = (await writeReport([join(tmp, 'smcir')], join(tmp, 'out-one'))).html;
    const twoHtml = (await writeReport([join(tmp, 'smcir'), join(tmp, 'no-msse')], join(tmp, 'out-two'))).html;
    one = await look(oneHtml, join(ARTIFACTS, 'report.png'));
    two = await look(twoHtml, join(ARTIFACTS, 'report-compare.png'));
  });

  test('opens from disk with no console errors and no request beyond the file', () => {
    expect(one.errors).toEqual([]);
    expect(two.errors).toEqual([]);
    expect(one.requests).toEqual([pathToFileURL(oneHtml).href]);
    expect(two.requests.length).toBe(1);
  });

  test('every figure is a visible, non-empty SVG', () => {
    expect(one.figures.map((f) => f.id)).toEqual(['fig1-training', 'fig2-test-metrics', 'fig3-dmfd-flagged', 'fig4-dmfd-scores', 'fig4b-dmfd-detection', 'fig5-missing-curve']);
    for (const f of [...one.figures, ...two.figures]) {
      expect(f.width, f.id).toBeGreaterThan(300);
      expect(f.height, f.id).toBeGreaterThan(150);
      expect(f.rects + f.lines + f.rules, f.id).toBeGreaterThan(0);
    }
  });

  test('each figure has its marks and axis titles', () => {
    const fig = (id: string) => one.figures.find((f) => f.id === id)!;
    const training = fig('fig1-training');
    expect(training.lines).toBe(4); // loss per step and valid L1 per epoch, one line per seed
    expect(training.axisTitles).toEqual(expect.arrayContaining(['step', 'training loss', 'epoch', 'validation L1']));
    expect(training.text).toContain('seed 1111');

    const metrics = fig('fig2-test-metrics');
    expect(metrics.rects).toBe(8 * CONDITIONS.length); // a bar per metric and condition
    expect(metrics.rules).toBe(8 * CONDITIONS.length); // and its error bar
    for (const t of ['Has0_acc_2 (×100)', 'Non0_F1_score (×100)', 'MAE', 'Corr', 'test condition']) expect(metrics.text).toContain(t);

    const flagged = fig('fig3-dmfd-flagged');
    expect(flagged.rects).toBe(3 * CONDITIONS.length);
    expect(flagged.axisTitles).toEqual(expect.arrayContaining(['test condition', 'samples flagged']));
    for (const t of ['vision', 'audio', 'both']) expect(flagged.text).toContain(t);

    const scores = fig('fig4-dmfd-scores');
    expect(scores.rects).toBeGreaterThan(2 * CONDITIONS.length);
    expect(scores.rules).toBe(2 * CONDITIONS.length * 2); // a threshold per score, condition and seed
    for (const t of ['F_v (vision)', 'F_a (audio)', 'score', 'samples', 'threshold', 'flagged', 'present']) expect(scores.text).toContain(t);

    const detection = fig('fig4b-dmfd-detection');
    expect(detection.rects).toBeGreaterThan(0);
    for (const t of ['precision', 'recall', 'vision', 'audio']) expect(detection.text).toContain(t);

    const curve = fig('fig5-missing-curve');
    expect(curve.lines).toBe(4 * 2); // 4 metrics, 2 seeds
    expect(curve.axisTitles).toEqual(expect.arrayContaining(['missing rate', 'MAE', 'Corr']));
    expect(curve.text).toMatch(/seed 1111 · AUILC \d\.\d{4}/);
  });

  test('several runs: side by side, labelled by folder name; what one run lacks is "not recorded"', () => {
    const ids = two.figures.map((f) => f.id);
    expect(ids).toEqual(['fig1-training', 'fig2-test-metrics', 'fig3-dmfd-flagged', 'fig4-dmfd-scores-smcir', 'fig4-dmfd-scores-no-msse', 'fig4b-dmfd-detection-smcir', 'fig5-missing-curve-smcir']);
    for (const id of ['fig1-training', 'fig2-test-metrics', 'fig3-dmfd-flagged']) {
      const t = two.figures.find((f) => f.id === id)!.text;
      expect(t, id).toContain('smcir');
      expect(t, id).toContain('no-msse');
    }
    expect(two.figures.find((f) => f.id === 'fig2-test-metrics')!.rects).toBe(2 * 8 * CONDITIONS.length);
    expect(two.figures.find((f) => f.id === 'fig4-dmfd-scores-no-msse')!.text).toContain('score mean (μ)');
    expect(two.notRecorded.join('\n')).toMatch(/Missing-rate curve \(missing-curve\.json\): not recorded \(no-msse seed 1111; no-msse seed 1112\)/);
  });
});
