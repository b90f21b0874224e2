import type { TemplateChannels, TemplateLocales, TemplateVariables } from '../contract/template';
import type { TemplatePolicy } from '../contract/templatePolicy';

/** One immutable template version as dispatch and preview use it; `id` keys the parse cache. */
export interface StoredTemplateVersion {
  id: string;
  templateId: string;
  code: string;
  version: number;
  name: string;
  category: string | null;
  critical: boolean;
  variables: TemplateVariables;
  channels: TemplateChannels;
  locales: TemplateLocales;
  /** Absent: no digest (versions built by hand in tests). */
  policy?: TemplatePolicy;
}
