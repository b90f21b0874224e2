import { createChannelAccountService } from './accounts/channelAccountService';
import { watchSecrets } from './accounts/watchSecrets';
import type { AppContext } from './appContext';
import { createLocalImBus } from './gateway/imBus';
import { createInboxStore } from './inbox/inboxStore';
import { createTemplateService } from './templates/templateService';

/** Builds the admin-side services on the context; each module adds its own factory call here. */
export function registerServices(ctx: AppContext): void {
  ctx.services.accounts = createChannelAccountService({
    prisma: ctx.db.prisma,
    secretKey: ctx.secrets.secretKey,
    previousSecretKeys: ctx.secrets.previousSecretKeys,
    secretHealth: watchSecrets(ctx),
  });
  ctx.services.templates = createTemplateService({ db: ctx.db });
  ctx.services.inbox = createInboxStore(ctx.db.sql);
  ctx.services.imBus = createLocalImBus();
}
