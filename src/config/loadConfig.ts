import path from 'node:path';
import { envSchema, type Env } from './envSchema';
import { describeIssue } from '../contract/zodIssues';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Herald's configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Config = Env & { homeDir: string };

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const missing = present[i.path.join('.')] === undefined;
        return `${describeIssue(i, '(environment)')}${missing ? ' (missing)' : ''}`;
      }),
    );
  }
  return { ...parsed.data, homeDir: path.resolve(parsed.data.HERALD_HOME) };
}

/** HERALD_PUBLIC_URL, or this machine's own address (which only works here) when it is not set. */
export function publicUrlOf(config: Pick<Config, 'HERALD_PUBLIC_URL' | 'PORT'>): string {
  return config.HERALD_PUBLIC_URL ?? `http://localhost:${config.PORT}`;
}
