import fs from 'node:fs';
import path from 'node:path';
import { chaosSizes } from './chaosMode';

/** One scenario's account of its envelopes, as the issue asks: nothing may be lost or duplicated. */
export interface ScenarioFigures {
  total: number;
  completed: number;
  lost: number;
  duplicated: number;
  deadLettered: number;
  /** Sends in flight at a fault that reached the peer twice (the only repeat the design allows). */
  repeatedInFlight?: number;
  /** Anything else worth reading in the report (reconnect time, RSS, delays). */
  extra?: Record<string, number | string | boolean | number[]>;
}

const RESULTS = path.join(__dirname, '..', 'results', 'latest.json');

function formatExtra(extra: ScenarioFigures['extra'] = {}): string {
  return Object.entries(extra)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : String(v)}`)
    .join(' ');
}

/** Prints `chaos <name>: total=… lost=…` and merges the figures into test/chaos/results/latest.json. */
export function reportScenario(name: string, f: ScenarioFigures): void {
  const line =
    `chaos ${name} [${chaosSizes.mode}]: total=${f.total} completed=${f.completed} lost=${f.lost} ` +
    `duplicated=${f.duplicated} dead-lettered=${f.deadLettered}` +
    (f.repeatedInFlight === undefined ? '' : ` repeated-in-flight=${f.repeatedInFlight}`) +
    (f.extra ? ` ${formatExtra(f.extra)}` : '');
  process.stdout.write(`\n${line}\n`);
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as Record<string, unknown>;
  } catch {
    // first scenario of the run
  }
  all[name] = { mode: chaosSizes.mode, at: new Date().toISOString(), ...f, line };
  fs.writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
}
