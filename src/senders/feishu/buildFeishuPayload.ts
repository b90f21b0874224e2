import type { FeishuJob } from './feishuJob';
import { feishuSignature } from './sign';

type PostElement =
  { tag: 'text'; text: string } | { tag: 'a'; text: string; href: string } | { tag: 'at'; user_id: string };

export type FeishuPayload = { timestamp?: string; sign?: string } & (
  | { msg_type: 'text'; content: { text: string } }
  | { msg_type: 'post'; content: { post: { zh_cn: { title: string; content: PostElement[][] } } } }
  | { msg_type: 'interactive'; card: FeishuCard }
);

export interface FeishuCard {
  config: { wide_screen_mode: true };
  header?: { title: { tag: 'plain_text'; content: string } };
  elements: Array<
    | { tag: 'div'; text: { tag: 'lark_md'; content: string } }
    | {
        tag: 'action';
        actions: Array<{
          tag: 'button';
          text: { tag: 'plain_text'; content: string };
          url: string;
          type: 'primary';
        }>;
      }
  >;
}

const DEFAULT_BUTTON_TITLE = 'View details';

/**
 * The JSON body Feishu expects for the job's message type
 * (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, 支持发送的消息类型说明): mentions are
 * `<at user_id="…"></at>` in text, `{tag: "at"}` elements in a post, `<at id=…></at>` in a card's lark_md.
 * With a secret, `timestamp` (seconds) and `sign` join the body.
 */
export function buildFeishuPayload(job: FeishuJob, nowMs: number): FeishuPayload {
  const signed =
    job.account.secret === undefined
      ? {}
      : (() => {
          const ts = Math.floor(nowMs / 1000);
          return { timestamp: String(ts), sign: feishuSignature(job.account.secret, ts) };
        })();
  const ids = [...job.atUserIds, ...(job.atAll ? ['all'] : [])];
  switch (job.msgType) {
    case 'text': {
      const tags = ids
        .map((id) => `<at user_id="${id}"></at>`)
        .filter((tag) => !job.text.includes(tag))
        .join(' ');
      return { ...signed, msg_type: 'text', content: { text: tags ? `${job.text} ${tags}` : job.text } };
    }
    case 'post': {
      const lines: PostElement[][] = job.text.split('\n').map((line) => [{ tag: 'text', text: line }]);
      if (job.url) lines.push([{ tag: 'a', text: job.btnTitle ?? DEFAULT_BUTTON_TITLE, href: job.url }]);
      if (ids.length > 0) lines.push(ids.map((id) => ({ tag: 'at', user_id: id })));
      return {
        ...signed,
        msg_type: 'post',
        content: { post: { zh_cn: { title: job.title ?? '', content: lines } } },
      };
    }
    case 'interactive': {
      const tags = ids.map((id) => `<at id=${id}></at>`).join(' ');
      const card: FeishuCard = {
        config: { wide_screen_mode: true },
        ...(job.title ? { header: { title: { tag: 'plain_text', content: job.title } } } : {}),
        elements: [
          { tag: 'div', text: { tag: 'lark_md', content: tags ? `${job.text}\n${tags}` : job.text } },
        ],
      };
      if (job.url) {
        card.elements.push({
          tag: 'action',
          actions: [
            {
              tag: 'button',
              text: { tag: 'plain_text', content: job.btnTitle ?? DEFAULT_BUTTON_TITLE },
              url: job.url,
              type: 'primary',
            },
          ],
        });
      }
      return { ...signed, msg_type: 'interactive', card };
    }
  }
}
