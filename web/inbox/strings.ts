/** The component's words; `lang` picks one table (zh-CN for zh, zh-*, else en). */
export interface InboxStrings {
  title: string;
  bell: (unread: number) => string;
  markAllRead: string;
  markRead: string;
  empty: string;
  loadMore: string;
  connecting: string;
  offline: string;
  error: (code: string) => string;
  unreadLabel: string;
  archive: string;
  snooze: string;
  allTab: string;
  actioned: (key: string) => string;
  /** The bell's label when it counts unseen items (`badge="unseen"`). */
  bellUnseen: (unseen: number) => string;
  preferences: string;
  preferencesHint: string;
  channels: string;
  categories: string;
  saved: string;
  back: string;
  /** A channel's name as the user knows it. */
  channel: (name: string) => string;
}

const enChannels: Record<string, string> = {
  mail: 'Email',
  im: 'In-app',
  dingtalk: 'DingTalk',
  feishu: 'Feishu',
  wecom: 'WeCom',
  dingtalk_work: 'DingTalk work notices',
};
const zhChannels: Record<string, string> = {
  mail: '邮件',
  im: '站内信',
  dingtalk: '钉钉',
  feishu: '飞书',
  wecom: '企业微信',
  dingtalk_work: '钉钉工作通知',
};

const en: InboxStrings = {
  title: 'Notifications',
  bell: (n) => (n === 0 ? 'Notifications' : `Notifications, ${n} unread`),
  markAllRead: 'Mark all read',
  markRead: 'Mark read',
  empty: 'No notifications yet',
  loadMore: 'Load older',
  connecting: 'Connecting…',
  offline: 'Offline, reconnecting…',
  error: (code) =>
    code.startsWith('token_')
      ? 'Your session could not be verified; retrying…'
      : 'Notifications are unavailable right now; retrying…',
  unreadLabel: 'unread',
  archive: 'Archive',
  snooze: 'Snooze 1 h',
  allTab: 'All',
  actioned: (key) => `Done: ${key}`,
  bellUnseen: (n) => (n === 0 ? 'Notifications' : `Notifications, ${n} new`),
  preferences: 'Preferences',
  preferencesHint: 'Choose what reaches you; critical notifications always do.',
  channels: 'Channels',
  categories: 'Categories',
  saved: 'Saved',
  back: 'Back',
  channel: (c) => enChannels[c] ?? c,
};

const zhCN: InboxStrings = {
  title: '通知',
  bell: (n) => (n === 0 ? '通知' : `通知，${n} 条未读`),
  markAllRead: '全部标为已读',
  markRead: '标为已读',
  empty: '暂无通知',
  loadMore: '加载更早的通知',
  connecting: '正在连接…',
  offline: '网络已断开，正在重连…',
  error: (code) => (code.startsWith('token_') ? '身份验证失败，正在重试…' : '通知暂时不可用，正在重试…'),
  unreadLabel: '未读',
  archive: '归档',
  snooze: '稍后提醒（1 小时）',
  allTab: '全部',
  actioned: (key) => `已处理：${key}`,
  bellUnseen: (n) => (n === 0 ? '通知' : `通知，${n} 条新通知`),
  preferences: '通知设置',
  preferencesHint: '选择接收哪些通知；重要通知始终会送达。',
  channels: '渠道',
  categories: '类别',
  saved: '已保存',
  back: '返回',
  channel: (c) => zhChannels[c] ?? c,
};

export function stringsFor(lang: string | undefined): { strings: InboxStrings; locale: string } {
  return lang?.toLowerCase().startsWith('zh')
    ? { strings: zhCN, locale: 'zh-CN' }
    : { strings: en, locale: 'en' };
}
