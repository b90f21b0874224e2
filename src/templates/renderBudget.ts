import { HeraldError } from '../errors';

/**
 * liquidjs bounds a render by the wall clock (a deadline set when the render starts). Herald renders
 * synchronously, so nothing else runs on the event loop meanwhile, yet a render can still be starved:
 * the process descheduled on a busy machine, or a long garbage collection. Comparing the CPU time the
 * rendering thread spent during the render with the wall time tells the two apart: a render that used
 * most of its budget in CPU may be the template's own work; one that did not is given more wall time,
 * and is retried later only if it stays starved. A garbage collection on the rendering thread is CPU
 * time too, so a CPU-bound limit hit counts as the template's own only when renders on fresh clocks, after
 * the event loop has run, hit the limit the same way (see `renderField` in renderTemplate.ts).
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
/** How far past the render limit, in wall time, a starved render may be stretched before it is retried later. */
const MAX_STRETCH = 10;

export interface RenderClock {
  readonly startedAt: number;
  readonly cpu: NodeJS.CpuUsage;
}

/**
 * Renders that start within this long of a clock's start share it. Reading the CPU time is a system call
 * (getrusage), and a burst renders thousands of fields a millisecond apart: one reading per field was 4 % of
 * the consumer's busy time in the dispatch-im-1 profile. A shared clock starts at most this early, for wall
 * and CPU time alike, which moves a verdict on a limit of tens of milliseconds by next to nothing.
 */
const CLOCK_REUSE_MS = 1;
let lastClock: RenderClock | undefined;

type CpuReader = (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage;
/**
 * The rendering thread's own CPU time where Node has it (added in 23.9; the 22.23 and 24 lines CI runs
 * have it): the process's CPU time also counts V8's parallel garbage-collection helpers and libuv's pool,
 * busy exactly when the process is under memory pressure, which made a legal template look like its own
 * runaway. Node 20 has only the process's; the confirming renders cover it there.
 */
const threadCpu = (process as { threadCpuUsage?: CpuReader }).threadCpuUsage;
export const readCpu: CpuReader = threadCpu ? threadCpu.bind(process) : process.cpuUsage.bind(process);

/** A clock for a render starting now; `fresh` starts a new one even when a recent one could be shared. */
export function startRenderClock(fresh = false): RenderClock {
  const now = performance.now();
  if (!fresh && lastClock && now - lastClock.startedAt < CLOCK_REUSE_MS) return lastClock;
  lastClock = { startedAt: now, cpu: readCpu() };
  return lastClock;
}

export type LimitVerdict =
  | { verdict: 'own_work'; cpuMs: number; wallMs: number }
  | { verdict: 'starved'; cpuMs: number; wallMs: number }
  | { verdict: 'stretch'; cpuMs: number; wallMs: number; wallLeftMs: number };

/**
 * After a render (and any re-renders) since `clock` hit the wall-clock limit: the template's own work
 * when this process spent at least half the limit on the CPU meanwhile; otherwise render again with the
 * wall time left of the stretch, or, when none is left, starved.
 */
export function judgeLimitHit(clock: RenderClock, limitMs: number): LimitVerdict {
  const used = readCpu(clock.cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const wallMs = performance.now() - clock.startedAt;
  if (cpuMs >= limitMs * OWN_WORK_SHARE) return { verdict: 'own_work', cpuMs, wallMs };
  const wallLeftMs = limitMs * MAX_STRETCH - wallMs;
  if (wallLeftMs <= 0) return { verdict: 'starved', cpuMs, wallMs };
  return { verdict: 'stretch', cpuMs, wallMs, wallLeftMs };
}
