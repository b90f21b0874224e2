import pino from 'pino';
import { connectBroker, type BrokerConnection } from '../broker/brokerConnection';
import type { Config } from '../config/loadConfig';
import { openDatabase, type Database } from '../db/database';
import { migrateDatabase } from '../db/migrateDatabase';

/** Opens the database (migrated) and, when AMQP_URL is set, the broker, for one CLI command. */
export async function withInfra<T>(
  config: Config,
  fn: (db: Database, broker?: BrokerConnection) => Promise<T>,
): Promise<T> {
  const db = await openDatabase({ url: config.DATABASE_URL, poolSize: 2, homeDir: config.homeDir });
  let broker: BrokerConnection | undefined;
  try {
    await migrateDatabase(db);
    if (config.AMQP_URL) broker = await connectBroker(config.AMQP_URL, pino({ level: 'silent' }));
    return await fn(db, broker);
  } finally {
    await broker?.close().catch(() => undefined);
    await db.close();
  }
}
