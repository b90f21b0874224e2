import fs from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import type * as vega from 'vega';
import type { BenchReport, ScenarioResult } from './report';

interface Point {
  x: number;
  y: number;
  series: string;
}

const WIDTH = 420;
const HEIGHT = 220;

/** A line chart of one cost curve: a line per series, a dot per measured point. */
function lineSpec(title: string, xTitle: string, yTitle: string, points: Point[], xLog: boolean): vega.Spec {
  const enc = { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' } };
  return {
    width: WIDTH,
    height: HEIGHT,
    padding: 10,
    background: 'white',
    title: { text: title, anchor: 'start' },
    data: [{ name: 'points', values: points }],
    scales: [
      {
        name: 'x',
        type: xLog ? 'log' : 'linear',
        domain: { data: 'points', field: 'x' },
        range: 'width',
        nice: !xLog,
      },
      {
        name: 'y',
        type: 'linear',
        domain: { data: 'points', field: 'y' },
        range: 'height',
        nice: true,
        zero: true,
      },
      { name: 'color', type: 'ordinal', domain: { data: 'points', field: 'series' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: xTitle, grid: true, ...(xLog ? { format: '~s' } : {}) },
      { orient: 'left', scale: 'y', title: yTitle, grid: true, format: '~s' },
    ],
    legends: [{ stroke: 'color', fill: 'color', orient: 'top-left' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'line', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'line' },
            sort: { field: 'datum.x' },
            encode: {
              enter: { ...enc, stroke: { scale: 'color', field: 'series' }, strokeWidth: { value: 2 } },
            },
          },
          {
            type: 'symbol',
            from: { data: 'line' },
            encode: { enter: { ...enc, fill: { scale: 'color', field: 'series' }, size: { value: 40 } } },
          },
        ],
      },
    ],
  } as vega.Spec;
}

/** Every scenario's ratio to its same-run baseline, with 1.0 marked. */
function ratioSpec(rows: { name: string; ratio: number }[]): vega.Spec {
  return {
    width: WIDTH,
    height: Math.max(HEIGHT, rows.length * 18),
    padding: 10,
    background: 'white',
    title: { text: 'Ratio to the same-run baseline', anchor: 'start' },
    data: [{ name: 'rows', values: rows }],
    scales: [
      { name: 'y', type: 'band', domain: { data: 'rows', field: 'name' }, range: 'height', padding: 0.2 },
      {
        name: 'x',
        type: 'linear',
        domain: { data: 'rows', field: 'ratio' },
        domainMin: 0,
        range: 'width',
        nice: true,
      },
    ],
    axes: [
      { orient: 'left', scale: 'y' },
      { orient: 'bottom', scale: 'x', grid: true, title: 'Herald ÷ baseline' },
    ],
    marks: [
      {
        type: 'rect',
        from: { data: 'rows' },
        encode: {
          enter: {
            y: { scale: 'y', field: 'name' },
            height: { scale: 'y', band: 1 },
            x: { scale: 'x', value: 0 },
            x2: { scale: 'x', field: 'ratio' },
            fill: { value: '#4c78a8' },
          },
        },
      },
      {
        type: 'text',
        from: { data: 'rows' },
        encode: {
          enter: {
            y: { scale: 'y', field: 'name', band: 0.5 },
            x: { scale: 'x', field: 'ratio', offset: 4 },
            text: { signal: "format(datum.ratio, '.3~f')" },
            baseline: { value: 'middle' },
            fontSize: { value: 10 },
          },
        },
      },
    ],
  } as vega.Spec;
}

const find = (scenarios: readonly ScenarioResult[], name: string) =>
  scenarios.find((s) => s.name === name && typeof s.figure === 'number');

/** The cost curves of a run as chart specs; a curve with fewer than two measured points is left out. */
export function chartSpecs(report: BenchReport): vega.Spec[] {
  const s = report.scenarios;
  const specs: vega.Spec[] = [];
  const dispatch: Point[] = [1, 10, 100, 1000].flatMap((n) => {
    const r = find(s, `dispatch-im-${n}`);
    return r ? [{ x: n, y: r.figure as number, series: 'Herald' }] : [];
  });
  if (dispatch.length >= 2)
    specs.push(
      lineSpec(
        'Dispatch by recipients per envelope',
        'recipients per envelope',
        'deliveries/s',
        dispatch,
        true,
      ),
    );

  const sockets = s.filter((r) => r.name.startsWith('connections-') && typeof r.figure === 'number');
  if (sockets.length >= 2)
    specs.push(
      lineSpec(
        'Memory per idle socket',
        'sockets',
        'bytes per socket',
        sockets.flatMap((r) => {
          const x = Number(r.name.slice('connections-'.length));
          return [
            { x, y: r.figure as number, series: 'Herald' },
            ...(typeof r.baseline === 'number' ? [{ x, y: r.baseline, series: 'bare ws' }] : []),
          ];
        }),
        false,
      ),
    );

  const hello = s.filter((r) => r.name.startsWith('hello-') && typeof r.figure === 'number');
  if (hello.length >= 2)
    specs.push(
      lineSpec(
        'hello by inbox size',
        'inbox items',
        'ms (p50)',
        hello.map((r) => ({
          x: Number(r.name.slice('hello-'.length)),
          y: r.figure as number,
          series: 'Herald',
        })),
        true,
      ),
    );

  const ratios = s.flatMap((r) => (typeof r.ratio === 'number' ? [{ name: r.name, ratio: r.ratio }] : []));
  if (ratios.length) specs.push(ratioSpec(ratios));
  return specs;
}

async function toSvg(spec: vega.Spec): Promise<{ svg: string; width: number; height: number }> {
  // Loaded on demand: vega is ESM with a top-level await, which require() cannot load.
  const vega = await import('vega');
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const size = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  if (!size) throw new Error('vega produced an SVG without a size');
  return { svg, width: Number(size[1]), height: Number(size[2]) };
}

/**
 * Draws the run's curves (two charts a row) into one PNG at `file`; returns false when the run measured no
 * curve to draw (a `--only` run of one scenario).
 */
export async function writeChart(report: BenchReport, file: string): Promise<boolean> {
  const specs = chartSpecs(report);
  if (!specs.length) return false;
  const parts = await Promise.all(specs.map(toSvg));
  const cellW = Math.max(...parts.map((p) => p.width));
  const rows: (typeof parts)[] = [];
  for (let i = 0; i < parts.length; i += 2) rows.push(parts.slice(i, i + 2));
  let y = 0;
  const placed: string[] = [];
  for (const row of rows) {
    row.forEach((p, col) => placed.push(p.svg.replace('<svg', `<svg x="${col * cellW}" y="${y}"`)));
    y += Math.max(...row.map((p) => p.height));
  }
  const width = cellW * Math.min(2, parts.length);
  const title = `Herald bench, ${report.mode} run, ${report.at} (load average ${report.machine.loadavg.join(' ')})`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 24}">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="10" y="16" font-family="sans-serif" font-size="12">${title}</text>` +
    `<g transform="translate(0,24)">${placed.join('')}</g></svg>`;
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
  fs.writeFileSync(file, png);
  return true;
}
