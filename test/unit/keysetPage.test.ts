import { keysetPage } from '../../src/http/cursor';

describe('keysetPage', () => {
  const cursorOf = (n: number) => `after-${n}`;

  it('keeps the first limit rows and names the last when one more was fetched', () => {
    expect(keysetPage([1, 2, 3], 2, cursorOf)).toEqual({ items: [1, 2], nextCursor: 'after-2' });
  });

  it('has no next cursor when the rows fit the page, or there are none', () => {
    expect(keysetPage([1, 2], 2, cursorOf)).toEqual({ items: [1, 2], nextCursor: null });
    expect(keysetPage([], 2, cursorOf)).toEqual({ items: [], nextCursor: null });
  });
});
