import type { Envelope, Recipient } from '../contract/envelope';
import { digestEvents, fitDigestParts } from './digestFit';
import type { RenderedParts, ResolvedTemplate } from './dispatchTypes';
import { inSpan } from '../tracing/spans';

/** An envelope's parts rendered once per person (undefined: a group post), shared by their channels. */
export type RenderCache = (recipient: Recipient | undefined) => Promise<RenderedParts>;

/**
 * The recipient's fields are in the template's scope, so each person renders once; deduplication (which
 * compares rendered content before the deliveries are recorded) and the send share the renders.
 */
export function createRenderCache(env: Envelope, template: ResolvedTemplate): RenderCache {
  const renders = new Map<Recipient | undefined, Promise<RenderedParts>>();
  return (recipient) => {
    let p = renders.get(recipient);
    if (!p) {
      const input = { data: env.data, recipient, locale: recipient?.locale ?? env.locale };
      p = inSpan(
        'render',
        {
          attributes: {
            'herald.template': template.code,
            'herald.template.version': template.version,
            ...(input.locale ? { 'herald.locale': input.locale } : {}),
          },
        },
        () => template.render(input),
      );
      if ((template.digest || template.mergeOnRateLimit) && digestEvents(env.data))
        p = p.then((parts) => fitDigestParts(parts, input, (i) => template.render(i)));
      // A failure is the send's to report, per delivery; nobody may be left holding an unhandled rejection.
      p.catch(() => undefined);
      renders.set(recipient, p);
    }
    return p;
  };
}
