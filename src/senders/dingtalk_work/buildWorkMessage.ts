import type { DingTalkWorkJob } from './workJob';

export type WorkMessage =
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'markdown'; markdown: { title: string; text: string } }
  | { msgtype: 'link'; link: { title: string; text: string; messageUrl: string; picUrl: string } }
  | {
      msgtype: 'action_card';
      action_card: { title: string; markdown: string; single_title: string; single_url: string };
    };

/** A part that cannot become a valid work notification; sending it again would not help. */
export class WorkMessageError extends Error {
  readonly code = 'dingtalk_work_invalid_part';
}

/** asyncsend_v2's `msg` may hold at most 2048 bytes. */
export const WORK_MESSAGE_MAX_BYTES = 2048;
const DEFAULT_BUTTON_TITLE = 'View details';

/**
 * The `msg` object of asyncsend_v2 for the job's type
 * (https://open.dingtalk.com/document/orgapp/message-types-and-data-format). Jobs whose messages are equal
 * (same account, same `contentKey`) can share one call.
 */
export function buildWorkMessage(job: DingTalkWorkJob): WorkMessage {
  const title = job.title ?? firstLine(job.text);
  let msg: WorkMessage;
  switch (job.msgtype) {
    case 'text':
      msg = { msgtype: 'text', text: { content: job.text } };
      break;
    case 'markdown':
      msg = { msgtype: 'markdown', markdown: { title, text: job.text } };
      break;
    case 'link':
      msg = {
        msgtype: 'link',
        link: {
          title,
          text: job.text,
          messageUrl: required(job.url, 'a link message needs a url'),
          picUrl: job.picUrl ?? '',
        },
      };
      break;
    case 'action_card':
      msg = {
        msgtype: 'action_card',
        action_card: {
          title,
          markdown: job.text,
          single_title: job.btnTitle ?? DEFAULT_BUTTON_TITLE,
          single_url: required(job.url, 'an action_card message needs a url'),
        },
      };
      break;
  }
  const bytes = Buffer.byteLength(JSON.stringify(msg), 'utf8');
  if (bytes > WORK_MESSAGE_MAX_BYTES)
    throw new WorkMessageError(
      `a work notification may have at most ${WORK_MESSAGE_MAX_BYTES} bytes, this one has ${bytes}`,
    );
  return msg;
}

/** Equal for two jobs exactly when DingTalk would show their recipients the same message. */
export function contentKey(job: DingTalkWorkJob, msg: WorkMessage): string {
  return JSON.stringify([job.account.name, job.account.appKey, job.account.agentId, msg]);
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  return line.replace(/^[#>\s*-]+/, '').slice(0, 64) || 'Notification';
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new WorkMessageError(what);
  return value;
}
