import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One scenario's line in bench/results/latest.json; extra fields (p50, p95, counts…) sit beside. */
export interface ScenarioResult {
  name: string;
  figure: number | null;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  /** The target from the issue, in words, and whether this run met it. */
  target?: string;
  met?: boolean;
  error?: string;
  [extra: string]: unknown;
}

export interface BenchReport {
  at: string;
  mode: 'full' | 'quick';
  machine: { cpus: number; cpuModel: string; memory: number; node: string; loadavg: number[] };
  durationMs: number;
  scenarios: ScenarioResult[];
}

export function machine(): BenchReport['machine'] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memory: os.totalmem(),
    node: process.version,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const fmt = (n: number | null | undefined): string =>
  n === null || n === undefined || Number.isNaN(n)
    ? '—'
    : Math.abs(n) >= 100
      ? Math.round(n).toLocaleString('en-US')
      : String(Math.round(n * 1000) / 1000);

export function printTable(report: BenchReport): void {
  const rows = report.scenarios.map((s) => [
    s.name,
    s.error ? 'FAILED' : fmt(s.figure),
    s.unit,
    fmt(s.baseline),
    fmt(s.ratio),
    s.target ?? '',
    s.error ? 'no' : s.met === undefined ? '' : s.met ? 'yes' : 'no',
  ]);
  const head = ['scenario', 'figure', 'unit', 'baseline', 'ratio', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(line(head));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows) console.log(line(r));
  for (const s of report.scenarios) if (s.error) console.log(`\n${s.name} FAILED: ${s.error}`);
}

export function writeReport(report: BenchReport): string {
  const dir = path.join(__dirname, '..', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, report.mode === 'quick' ? 'latest-quick.json' : 'latest.json');
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  // Tools read latest.json; a quick run writes it too, marked by mode.
  if (report.mode === 'quick') fs.copyFileSync(file, path.join(dir, 'latest.json'));
  return file;
}
