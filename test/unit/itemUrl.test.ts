import { couldBeSafeItemUrl, isSafeItemUrl } from '../../src/senders/im/itemUrl';

describe('in-site item urls', () => {
  it.each([
    'https://shop.example.com/orders/1',
    'HTTP://shop.example.com',
    '/orders/981',
    'orders/981',
    '?tab=2',
    '#top',
  ])('takes %s', (url) => expect(isSafeItemUrl(url)).toBe(true));

  it.each([
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:x',
    '//evil.example.net',
    '/\\evil.example.net',
    '\\\\evil.example.net',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    '/ok\n',
  ])('refuses %j', (url) => expect(isSafeItemUrl(url)).toBe(false));

  it('judges a url template by its literal beginning, leaving what tags fill in to send time', () => {
    expect(couldBeSafeItemUrl('/orders/{{ orderNo }}')).toBe(true);
    expect(couldBeSafeItemUrl('{{ link }}')).toBe(true);
    expect(couldBeSafeItemUrl('https://x.example/{{ a }}')).toBe(true);
    expect(couldBeSafeItemUrl('javascript:{{ code }}')).toBe(false);
    expect(couldBeSafeItemUrl('//{{ host }}/x')).toBe(false);
    expect(couldBeSafeItemUrl('javascript:alert(1)')).toBe(false);
  });
});
