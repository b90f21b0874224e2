import type { Database } from '../../db/database';
import { createSendBudget, type BudgetWindow, type SendBudget } from '../sendBudget';

/**
 * A group robot may post 20 messages a minute (https://developer.work.weixin.qq.com/document/path/91770,
 * 消息发送频率限制: 每个机器人发送的消息不能超过20条/分钟).
 */
export const WECOM_BUDGET: readonly BudgetWindow[] = [{ limit: 20, windowMs: 60_000 }];

/** Shared by every instance through PostgreSQL. */
export function createWecomBudget(db: Database, windows: readonly BudgetWindow[] = WECOM_BUDGET): SendBudget {
  return createSendBudget(db, { windows, scope: 'wecom-robot' });
}
