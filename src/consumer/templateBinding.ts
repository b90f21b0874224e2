import { parseDuration } from '../contract/duration';
import { CHANNELS } from '../contract/envelope';
import { checkVariables, type VariableProblem } from '../templates/checkVariables';
import type { StoredTemplateVersion } from '../templates/storedTemplateVersion';
import type { TemplateService } from '../templates/templateService';
import type { ResolvedTemplate, TemplateResolver } from './dispatchTypes';

const describeProblem = (p: VariableProblem): string =>
  p.problem === 'missing'
    ? `${p.variable}: missing (expected ${p.expected})`
    : `${p.variable}: expected ${p.expected}, got ${p.got}`;

function digestOf(v: StoredTemplateVersion, service: TemplateService): ResolvedTemplate['digest'] {
  const spec = v.policy?.digest;
  if (!spec?.window) return undefined;
  const { key } = spec;
  return {
    windowMs: parseDuration(spec.window),
    maxEvents: spec.maxEvents,
    keyOf: (data) => (key ? service.evaluateKey(key, data) : ''),
  };
}

function throttleOf(v: StoredTemplateVersion, service: TemplateService): ResolvedTemplate['throttle'] {
  const spec = v.policy?.throttle;
  if (!spec) return undefined;
  const { key } = spec;
  return {
    limit: spec.limit,
    windowMs: parseDuration(spec.window),
    keyOf: (data) => (key ? service.evaluateKey(key, data) : ''),
  };
}

/** Dispatch's view of the template module; one ResolvedTemplate per (immutable, cached) version object. */
export function bindTemplates(service: TemplateService): TemplateResolver {
  const bound = new WeakMap<StoredTemplateVersion, ResolvedTemplate>();
  const toResolved = (v: StoredTemplateVersion): ResolvedTemplate => {
    let r = bound.get(v);
    if (!r) {
      r = {
        code: v.code,
        version: v.version,
        category: v.category,
        channels: CHANNELS.filter((c) => v.channels[c] !== undefined),
        critical: v.critical,
        checkData: (data) => checkVariables(v.variables, data).map(describeProblem),
        render: (input) => service.renderer.render(v, input),
        digest: digestOf(v, service),
        mergeOnRateLimit: v.policy?.digest?.onRateLimit === true,
        escalate: v.policy?.escalate && {
          ...v.policy.escalate,
          afterMs: parseDuration(v.policy.escalate.after),
        },
        fallback: v.policy?.fallback,
        throttle: throttleOf(v, service),
        dedupe: v.policy?.dedupe && { windowMs: parseDuration(v.policy.dedupe.window) },
      };
      bound.set(v, r);
    }
    return r;
  };
  return {
    async resolve(code, version) {
      const v =
        version === undefined
          ? await service.getActiveVersion(code)
          : await service.getVersion(code, version);
      return v && toResolved(v);
    },
  };
}
