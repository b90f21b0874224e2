import type { WecomPart } from './wecomPart';

/**
 * WeCom's length limits in UTF-8 bytes (https://developer.work.weixin.qq.com/document/path/91770): text
 * content 2048, markdown content 4096, a news article's title 128 and description 512.
 */
export const WECOM_BYTE_LIMITS = {
  text: { text: 2048 },
  markdown: { text: 4096 },
  news: { title: 128, text: 512 },
} as const;

export interface LengthIssue {
  field: 'title' | 'text';
  bytes: number;
  limit: number;
  message: string;
}

/**
 * The fields of a part over WeCom's limits. Called on a template's source when it is saved (a source over the
 * limit cannot render under it unless variables shrink it, so it is refused then) and by the sender on the
 * rendered text, which WeCom would refuse.
 */
export function wecomLengthIssues(part: Pick<WecomPart, 'msgtype' | 'title' | 'text'>): LengthIssue[] {
  const limits: Partial<Record<'title' | 'text', number>> = WECOM_BYTE_LIMITS[part.msgtype];
  const issues: LengthIssue[] = [];
  for (const field of ['title', 'text'] as const) {
    const limit = limits[field];
    const value = part[field];
    if (limit === undefined || value === undefined) continue;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > limit)
      issues.push({
        field,
        bytes,
        limit,
        message: `a WeCom ${part.msgtype} ${label(part.msgtype, field)} may have at most ${limit} bytes, this one has ${bytes}`,
      });
  }
  return issues;
}

function label(msgtype: WecomPart['msgtype'], field: 'title' | 'text'): string {
  if (field === 'title') return 'title';
  return msgtype === 'news' ? 'description' : 'content';
}
