import type { Config } from '../config/loadConfig';
import type { MessageTimeline } from '../contract/messageTimeline';
import { openDatabase } from '../db/database';
import { messageTimeline } from '../timeline/messageTimeline';

/** The timeline as terminal lines: a header for the message, then one line per entry. */
export function formatTimeline(t: MessageTimeline): string[] {
  const lines: string[] = [];
  const m = t.message;
  if (m) {
    const version = m.templateVersion === null ? '' : ` v${m.templateVersion}`;
    lines.push(`message ${m.id}: ${m.status}${m.reason ? ` (${m.reason})` : ''}`);
    lines.push(`  template ${m.templateCode ?? '?'}${version}, received ${m.createdAt}`);
    if (m.sendAt) lines.push(`  due at ${m.sendAt}`);
    if (m.traceId) lines.push(`  trace ${m.traceId}`);
  } else {
    lines.push('message: no record (only the entries below know this id)');
  }
  const start = t.entries[0] ? Date.parse(t.entries[0].at) : 0;
  for (const e of t.entries) {
    const offset = `+${((Date.parse(e.at) - start) / 1000).toFixed(3)}s`.padStart(10);
    const who = [e.channel, e.userId].filter(Boolean).join(' ');
    const took = e.durationMs === null ? '' : ` (${e.durationMs} ms)`;
    lines.push(
      `${e.at} ${offset}  ${e.type.padEnd(22)} ${who ? `${who.padEnd(20)} ` : ''}${e.summary}${took}`,
    );
  }
  return lines;
}

/** `herald trace <message-id>`: what happened to one message, read from the database. */
export async function traceCommand(config: Config, id: string, out: (line: string) => void): Promise<number> {
  const db = await openDatabase({ url: config.DATABASE_URL, poolSize: 1, homeDir: config.homeDir });
  try {
    const timeline = await messageTimeline(db.sql, id);
    if (!timeline) {
      out(`no message, delivery, event or dead letter knows the id "${id}"`);
      return 1;
    }
    for (const line of formatTimeline(timeline)) out(line);
    return 0;
  } finally {
    await db.close();
  }
}
