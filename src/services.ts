import { createChannelAccountService } from './accounts/channelAccountService';
import type { SecretHealth } from './accounts/secretHealth';
import type { AppServices } from './appContext';
import type { LocalSecrets } from './config/localSecrets';
import type { PipelineServices } from './consumer/pipeline';
import type { Database } from './db/database';
import { createLocalImBus, type ImBus } from './inbox/imBus';
import { createInboxStore, type InboxStore } from './inbox/inboxStore';
import { createTemplateService } from './templates/templateService';

/** The admin-side services; the inbox and bus are IM's (in-process ones when none are given). */
export function createServices(deps: {
  db: Database;
  secrets: LocalSecrets;
  /** Counts and reports secrets that fail to decrypt (its check is on /ready). */
  secretHealth?: SecretHealth;
  inbox?: InboxStore;
  imBus?: ImBus;
  pipeline?: PipelineServices;
}): AppServices {
  return Object.freeze({
    accounts: createChannelAccountService({
      prisma: deps.db.prisma,
      secretKey: deps.secrets.secretKey,
      previousSecretKeys: deps.secrets.previousSecretKeys,
      secretHealth: deps.secretHealth,
    }),
    templates: createTemplateService({ db: deps.db }),
    inbox: deps.inbox ?? createInboxStore(deps.db.sql),
    imBus: deps.imBus ?? createLocalImBus(),
    pipeline: deps.pipeline,
  });
}
