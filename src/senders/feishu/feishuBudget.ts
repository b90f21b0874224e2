import type { Database } from '../../db/database';
import { createSendBudget, type BudgetWindow, type SendBudget } from '../sendBudget';

/**
 * A custom bot may post 100 messages a minute and 5 a second
 * (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, 频率控制: 100 次/分钟, 5 次/秒).
 */
export const FEISHU_BUDGET: readonly BudgetWindow[] = [
  { limit: 5, windowMs: 1000 },
  { limit: 100, windowMs: 60_000 },
];

/** Shared by every instance through PostgreSQL. */
export function createFeishuBudget(
  db: Database,
  windows: readonly BudgetWindow[] = FEISHU_BUDGET,
): SendBudget {
  return createSendBudget(db, { windows, scope: 'feishu-robot' });
}
