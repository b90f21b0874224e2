import type { Database } from '../../db/database';
import { createSendBudget, type SendBudget } from '../sendBudget';

export type RobotBudget = SendBudget;

export interface RobotBudgetOptions {
  /** Sends allowed per robot within any window (DingTalk: 20). */
  perWindow?: number;
  /** The sliding window (DingTalk: one minute). */
  windowMs?: number;
}

/**
 * DingTalk's custom robot budget: 20 messages a minute per robot, shared by every instance
 * (https://open.dingtalk.com/document/orgapp/custom-robot-access: "每个机器人每分钟最多发送20条消息到群里,
 * 如果超过20条,会限流10分钟"). Keys stay the bare account name, as before budgets were shared by vendors.
 */
export function createRobotBudget(db: Database, opts: RobotBudgetOptions = {}): RobotBudget {
  return createSendBudget(db, {
    windows: [{ limit: opts.perWindow ?? 20, windowMs: opts.windowMs ?? 60_000 }],
  });
}
