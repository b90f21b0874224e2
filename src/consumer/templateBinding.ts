import { CHANNELS } from '../contract/envelope';
import { checkVariables, type VariableProblem } from '../templates/checkVariables';
import type { StoredTemplateVersion } from '../templates/storedTemplateVersion';
import type { TemplateService } from '../templates/templateService';
import type { ResolvedTemplate, TemplateResolver } from './dispatchTypes';

const describeProblem = (p: VariableProblem): string =>
  p.problem === 'missing'
    ? `${p.variable}: missing (expected ${p.expected})`
    : `${p.variable}: expected ${p.expected}, got ${p.got}`;

/** Dispatch's view of the template module; one ResolvedTemplate per (immutable, cached) version object. */
export function bindTemplates(service: TemplateService): TemplateResolver {
  const bound = new WeakMap<StoredTemplateVersion, ResolvedTemplate>();
  const toResolved = (v: StoredTemplateVersion): ResolvedTemplate => {
    let r = bound.get(v);
    if (!r) {
      r = {
        code: v.code,
        version: v.version,
        channels: CHANNELS.filter((c) => v.channels[c] !== undefined),
        checkData: (data) => checkVariables(v.variables, data).map(describeProblem),
        render: (input) => service.renderer.render(v, input),
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
