import type { WecomJob } from './wecomJob';

export type WecomPayload =
  | {
      msgtype: 'text';
      text: { content: string; mentioned_list?: string[]; mentioned_mobile_list?: string[] };
    }
  | { msgtype: 'markdown'; markdown: { content: string } }
  | {
      msgtype: 'news';
      news: { articles: Array<{ title: string; description: string; url: string; picurl?: string }> };
    };

/** A part that cannot become a valid robot message; sending it again would not help. */
export class WecomPayloadError extends Error {
  readonly code = 'wecom_invalid_part';
}

/**
 * The JSON body WeCom expects (https://developer.work.weixin.qq.com/document/path/91770): a text message
 * @s through `mentioned_list` / `mentioned_mobile_list` ("@all" for everyone), markdown through `<@userid>`
 * in the content, news cannot @ anyone.
 */
export function buildWecomPayload(job: WecomJob): WecomPayload {
  switch (job.msgtype) {
    case 'text': {
      const users = [...job.atUserIds, ...(job.atAll ? ['@all'] : [])];
      return {
        msgtype: 'text',
        text: {
          content: job.text,
          ...(users.length > 0 ? { mentioned_list: users } : {}),
          ...(job.atMobiles.length > 0 ? { mentioned_mobile_list: job.atMobiles } : {}),
        },
      };
    }
    case 'markdown': {
      const tags = job.atUserIds.map((id) => `<@${id}>`).filter((tag) => !job.text.includes(tag));
      return {
        msgtype: 'markdown',
        markdown: { content: tags.length ? `${job.text}\n${tags.join(' ')}` : job.text },
      };
    }
    case 'news': {
      if (!job.url) throw new WecomPayloadError('a news message needs a url');
      if (!job.title) throw new WecomPayloadError('a news message needs a title');
      return {
        msgtype: 'news',
        news: {
          articles: [
            {
              title: job.title,
              description: job.text,
              url: job.url,
              ...(job.picUrl ? { picurl: job.picUrl } : {}),
            },
          ],
        },
      };
    }
  }
}
