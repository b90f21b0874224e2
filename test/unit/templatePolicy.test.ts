import { digestSchema } from '../../src/contract/templatePolicy';
import { renderScope } from '../../src/templates/renderTemplate';

describe('digest policy', () => {
  it('takes a window digest, or onRateLimit alone', () => {
    expect(digestSchema.safeParse({ window: '10m', key: 'project', maxEvents: 5 }).success).toBe(true);
    expect(digestSchema.safeParse({ onRateLimit: true }).success).toBe(true);
  });

  it('refuses a digest without a window unless it merges on the rate limit, and onRateLimit beside a window', () => {
    const issues = (input: unknown) =>
      (digestSchema.safeParse(input).error?.issues ?? []).map((i) => [i.path.join('.'), i.message]);
    expect(issues({})).toEqual([['window', 'required (unless onRateLimit is true)']]);
    expect(issues({ onRateLimit: false })).toEqual([['window', 'required (unless onRateLimit is true)']]);
    expect(issues({ onRateLimit: true, window: '10m', maxEvents: 3 }).map(([path]) => path)).toEqual([
      'window',
      'maxEvents',
    ]);
    expect(issues({ onRateLimit: true, key: 'host' })[0]?.[1]).toMatch(/leave out key/);
  });

  it('gives a template names beside its variables as null unless the data has them', () => {
    const scope = renderScope({ n: 'number' }, { n: 3 }, {}, ['events', 'count']);
    expect(scope).toMatchObject({ n: 3, events: null, count: null });
    expect(renderScope({}, { events: [1], count: 1 }, {}, ['events', 'count'])).toMatchObject({
      events: [1],
      count: 1,
    });
  });
});
