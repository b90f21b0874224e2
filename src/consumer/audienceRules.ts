import type { Envelope } from '../contract/envelope';
import type { DeliveryRow } from '../delivery/deliveryState';
import { QUIET_HOURS_REASON } from '../delivery/deferDeliveries';
import type { DigestCollector } from './digests';
import type { ResolvedTemplate } from './dispatchTypes';
import type { PipelineMetrics } from './pipelineMetrics';
import { deferForQuietHours, type QuietHoursDeps } from './quietHours';
import type { SendAudience } from './sendDeliveries';

export interface AudienceRuleDeps extends QuietHoursDeps {
  digests?: DigestCollector;
  metrics?: PipelineMetrics;
}

/**
 * The audience rules that follow the recorded deliveries, the last two of the one documented order
 * (README, "Throttle and deduplication"): critical → preference → deduplication → throttle → digest →
 * quiet hours. A critical template skips them all, as it skipped preference (planDeliveries) and the
 * admission checks (admission.ts, decided in the statement that records the rows). Then the template's
 * digest collects the queued rows (`digested`), and what is still queued for a person in their quiet
 * hours is `deferred` to their end. `reread` reads the rows again after the digest changed them. Each is
 * counted in herald_deliveries_total with its status and reason. Returns the rows as they now stand.
 */
export async function applyAudienceRules(
  env: Envelope,
  template: ResolvedTemplate,
  rows: readonly DeliveryRow[],
  audience: SendAudience,
  deps: AudienceRuleDeps,
  reread: () => Promise<DeliveryRow[]>,
): Promise<DeliveryRow[]> {
  if (template.critical) return [...rows];
  let current = [...rows];
  if (template.digest && deps.digests) {
    const queued = new Set(current.filter((d) => d.status === 'queued').map((d) => d.id));
    // Queued deliveries become `digested`: read them again after collecting.
    await deps.digests.collect(env, template, current, audience);
    current = await reread();
    for (const d of current)
      if (queued.has(d.id) && d.status === 'digested')
        deps.metrics?.deliveries.inc({ channel: d.channel, status: 'digested', reason: 'digest' });
  }
  const quiet = await deferForQuietHours(env, template, current, audience, deps);
  for (const d of quiet.deferred)
    deps.metrics?.deliveries.inc({ channel: d.channel, status: 'deferred', reason: QUIET_HOURS_REASON });
  return quiet.rows;
}
