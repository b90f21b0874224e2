import { ConfigError, loadConfig } from '../../src/config/loadConfig';

describe('loadConfig', () => {
  it('applies the documented defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe('0.0.0.0');
    expect(c.HERALD_HOME).toBe('./.herald');
    expect(c.HERALD_ROLES).toEqual(['api', 'consumer', 'gateway']);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.AMQP_URL).toBeUndefined();
    expect(c.HERALD_RETRY_DELAYS.length).toBeGreaterThanOrEqual(6);
  });

  it('parses durations, lists and roles', () => {
    const c = loadConfig({
      HERALD_RETRY_DELAYS: '500ms,2s,1m',
      HERALD_ROLES: 'api, consumer',
      HERALD_ADMIN_TOKENS: 'a'.repeat(16) + ',' + 'b'.repeat(20),
    });
    expect(c.HERALD_RETRY_DELAYS).toEqual([500, 2000, 60000]);
    expect(c.HERALD_ROLES).toEqual(['api', 'consumer']);
    expect(c.HERALD_ADMIN_TOKENS).toHaveLength(2);
  });

  it('names every bad variable in one readable message', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        HERALD_ROLES: 'api,mailer',
        HERALD_RETRY_DELAYS: '5 minutes',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const msg = (error as ConfigError).message;
    expect(msg).toMatch(/PORT/);
    expect(msg).toMatch(/DATABASE_URL: must be a postgres/);
    expect(msg).toMatch(/HERALD_ROLES/);
    expect(msg).toMatch(/HERALD_RETRY_DELAYS: "5 minutes" is not a duration/);
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('never echoes a bad secret value back', () => {
    const secret = 'tooShortSecret';
    expect(() => loadConfig({ HERALD_JWT_SECRET: secret })).toThrow(/HERALD_JWT_SECRET: needs at least 32/);
    try {
      loadConfig({ HERALD_JWT_SECRET: secret });
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });
});
