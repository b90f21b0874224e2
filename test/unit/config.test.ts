import { ConfigError, loadConfig } from '../../src/config/loadConfig';
import { parseBrokerUrls, redactUrl } from '../../src/broker/brokerUrls';

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

describe('AMQP_URL as a list of cluster nodes', () => {
  it('takes one URL or several comma-separated, and refuses a list with a bad member', () => {
    const list = 'amqp://u:p@rabbit-1:5672, amqp://u:p@rabbit-2:5672,amqps://u:p@rabbit-3:5671/vh';
    expect(loadConfig({ AMQP_URL: list }).AMQP_URL).toBe(list);
    expect(parseBrokerUrls(list)).toEqual([
      'amqp://u:p@rabbit-1:5672',
      'amqp://u:p@rabbit-2:5672',
      'amqps://u:p@rabbit-3:5671/vh',
    ]);
    expect(parseBrokerUrls(['amqp://a', 'amqp://b'])).toEqual(['amqp://a', 'amqp://b']);
    expect(() => loadConfig({ AMQP_URL: 'amqp://u:p@rabbit-1,http://rabbit-2' })).toThrow(
      /AMQP_URL: must be an amqp:\/\/ or amqps:\/\/ URL, or several separated by commas/,
    );
    expect(() => parseBrokerUrls(' , ')).toThrow(/no broker URL/);
  });

  it('names a bad node without its credentials', () => {
    expect(() => parseBrokerUrls('amqp://u:p@ok,redis://user:s3cret@other:6379')).toThrow(/not an amqp/);
    expect(() => parseBrokerUrls('amqp://u:p@ok,redis://user:s3cret@other:6379')).not.toThrow(/s3cret/);
    expect(redactUrl('amqp://user:s3cret@rabbit-2:5673/vh')).toBe('amqp://rabbit-2:5673');
  });
});
