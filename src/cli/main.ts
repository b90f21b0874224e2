import pino from 'pino';
import { ConfigError, loadConfig, type Config } from '../config/loadConfig';
import { resolveLocalSecrets } from '../config/localSecrets';
import { openDatabase } from '../db/database';
import { migrateDatabase } from '../db/migrateDatabase';
import { signUserToken } from '../auth/userToken';
import { explainStartupFailure } from './explainStartupFailure';

const USAGE = `usage: herald <command>

  start                 start the roles in HERALD_ROLES (default: api, consumer, gateway)
  migrate               apply pending database migrations and exit
  token <userId> [ttl]  print a user token for the WebSocket gateway (ttl in seconds, default 3600)
  dlq list [limit]      list dead letters with their reasons
  dlq replay <id>       publish a dead letter's envelope again
  dlq purge --yes       delete every dead letter
  queues                queue depths, consumers, and the oldest unfinished message
  inbox recount [userId]  recompute inbox counts from the items; print and fix any difference
  trace <message-id>    everything that happened to a message, in order (as GET /v1/messages/:id/timeline)
  keys create <name> <scope>[,<scope>]   create an API key (scopes: publish, read, admin); printed once
  keys list             API keys with their scopes, last use and revocation (never the keys)
  keys revoke <id>      revoke an API key on every instance
  audit [limit]         the newest admin changes: when, who, what, on what
`;

type Command = (config: Config, args: string[]) => Promise<void>;

const commands: Record<string, Command> = {
  async start(config) {
    const { startServer } = await import('../server');
    await startServer(config);
  },
  async migrate(config) {
    const db = await openDatabase({ url: config.DATABASE_URL, poolSize: 1, homeDir: config.homeDir });
    try {
      const applied = await migrateDatabase(db);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database schema is up to date');
    } finally {
      await db.close();
    }
  },
  async dlq(config, args) {
    const { dlqCommand } = await import('./dlqCommand');
    process.exitCode = await dlqCommand(config, args, (line) => console.log(line));
  },
  async inbox(config, args) {
    const { inboxCommand } = await import('./inboxCommand');
    process.exitCode = await inboxCommand(config, args, (line) => console.log(line));
  },
  async audit(config, args) {
    const { auditCommand } = await import('./auditCommand');
    process.exitCode = await auditCommand(config, args, (line) => console.log(line));
  },
  async keys(config, args) {
    const { keysCommand } = await import('./keysCommand');
    process.exitCode = await keysCommand(config, args, (line) => console.log(line));
  },
  async queues(config) {
    const { queuesCommand } = await import('./queuesCommand');
    process.exitCode = await queuesCommand(config, (line) => console.log(line));
  },
  async trace(config, [id]) {
    if (!id) throw new UsageError('trace needs a message id');
    const { traceCommand } = await import('./traceCommand');
    process.exitCode = await traceCommand(config, id, (line) => console.log(line));
  },
  async token(config, [userId, ttl]) {
    if (!userId) throw new UsageError('token needs a user id');
    const seconds = ttl === undefined ? 3600 : Number(ttl);
    if (!Number.isInteger(seconds) || seconds <= 0)
      throw new UsageError('ttl must be a positive number of seconds');
    console.log(signUserToken(resolveLocalSecrets(config).jwtSecret, userId, seconds));
  },
};

class UsageError extends Error {}

export async function runCli(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(USAGE);
    process.exitCode = name && name !== 'help' && name !== '--help' ? 2 : 0;
    return;
  }
  try {
    await command(loadConfig(), args);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const explained = explainStartupFailure(err, process.env);
    if (explained) {
      process.stderr.write(`herald ${name}: ${explained}\n`);
      process.exitCode = 1;
      return;
    }
    pino().fatal({ err }, `herald ${name} failed`);
    process.exitCode = 1;
  }
}

if (require.main === module) void runCli(process.argv.slice(2));
