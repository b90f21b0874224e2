import { HeraldError } from '../errors';

/**
 * liquidjs bounds a render by the wall clock (a deadline set when the render starts). Herald renders
 * synchronously, so nothing else runs on the event loop meanwhile, yet a render can still be starved:
 * the process descheduled on a busy machine, or a long garbage collection. Comparing the CPU time this
 * process spent during the render with the wall time tells the two apart: a render that used most of
 * its budget in CPU is the template's own work (permanent); one that did not was starved (retry).
 */
export class RenderStarvedError extends HeraldError {
  readonly retryable = true;
  constructor(channel: string, field: string, cpuMs: number, wallMs: number) {
    super(
      'render_starved',
      `${channel}.${field} hit the render limit after ${wallMs.toFixed(0)} ms while using ${cpuMs.toFixed(0)} ms of CPU: the process was busy, not the template`,
      503,
    );
  }
}

/** Share of the render limit that must have been CPU time for a limit hit to count as the template's own. */
const OWN_WORK_SHARE = 0.5;

export interface RenderClock {
  readonly startedAt: number;
  readonly cpu: NodeJS.CpuUsage;
}

export const startRenderClock = (): RenderClock => ({
  startedAt: performance.now(),
  cpu: process.cpuUsage(),
});

/** True when the render that `clock` timed spent less than half its limit on the CPU. */
export function wasStarved(
  clock: RenderClock,
  limitMs: number,
): { starved: boolean; cpuMs: number; wallMs: number } {
  const used = process.cpuUsage(clock.cpu);
  const cpuMs = (used.user + used.system) / 1000;
  return { starved: cpuMs < limitMs * OWN_WORK_SHARE, cpuMs, wallMs: performance.now() - clock.startedAt };
}
