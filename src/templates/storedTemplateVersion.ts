import type { TemplateChannels, TemplateLocales, TemplateVariables } from '../contract/template';

/** One immutable template version as dispatch and preview use it; `id` keys the parse cache. */
export interface StoredTemplateVersion {
  id: string;
  templateId: string;
  code: string;
  version: number;
  name: string;
  variables: TemplateVariables;
  channels: TemplateChannels;
  locales: TemplateLocales;
}
