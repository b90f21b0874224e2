import type { DingTalkJob } from './robotJob';

export type RobotPayload =
  | { msgtype: 'text'; text: { content: string }; at: RobotAt }
  | { msgtype: 'markdown'; markdown: { title: string; text: string }; at: RobotAt }
  | { msgtype: 'link'; link: { title: string; text: string; messageUrl: string; picUrl?: string } }
  | {
      msgtype: 'actionCard';
      actionCard: { title: string; text: string; singleTitle: string; singleURL: string };
    };

export interface RobotAt {
  atMobiles: string[];
  atUserIds: string[];
  isAtAll: boolean;
}

/** A part that cannot become a valid robot message; sending it again would not help. */
export class RobotPayloadError extends Error {
  readonly code = 'dingtalk_invalid_part';
}

const DEFAULT_BUTTON_TITLE = 'View details';

/**
 * The JSON body DingTalk expects for the job's msgtype.
 *
 * No idempotency key is sent: the custom-robot documentation
 * (https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages) defines only `msgtype`, the
 * body of that type and `at`; it has no `msgUuid` or other de-duplication field. A repeat is prevented by the
 * delivery's claim before the send (only a send in flight when a process dies may repeat).
 */
export function buildRobotPayload(job: DingTalkJob): RobotPayload {
  const at: RobotAt = { atMobiles: job.atMobiles, atUserIds: job.atUserIds, isAtAll: job.isAtAll };
  const title = job.title ?? firstLine(job.text);
  switch (job.msgtype) {
    case 'text':
      return { msgtype: 'text', text: { content: withMentions(job.text, job, '\n') }, at };
    case 'markdown':
      return { msgtype: 'markdown', markdown: { title, text: withMentions(job.text, job, '\n\n') }, at };
    case 'link':
      return {
        msgtype: 'link',
        link: {
          title,
          text: job.text,
          messageUrl: required(job.url, 'a link message needs a url'),
          ...(job.picUrl ? { picUrl: job.picUrl } : {}),
        },
      };
    case 'actionCard':
      return {
        msgtype: 'actionCard',
        actionCard: {
          title,
          text: job.text,
          singleTitle: job.btnTitle ?? DEFAULT_BUTTON_TITLE,
          singleURL: required(job.url, 'an actionCard message needs a url'),
        },
      };
  }
}

/** DingTalk renders a mention only when `@<mobile>` / `@<userId>` also appears in the text. */
function withMentions(text: string, job: DingTalkJob, sep: string): string {
  const missing = [...job.atMobiles, ...job.atUserIds]
    .map((m) => `@${m}`)
    .filter((tag) => !text.includes(tag));
  return missing.length === 0 ? text : `${text}${sep}${missing.join(' ')}`;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  return line.replace(/^[#>\s*-]+/, '').slice(0, 64) || 'Notification';
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new RobotPayloadError(what);
  return value;
}
