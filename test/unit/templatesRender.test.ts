import { createLiquidEngines } from '../../src/templates/liquidEngine';
import { findSyntaxProblems } from '../../src/templates/checkSyntax';
import { createTemplateRenderer, TemplateRenderError } from '../../src/templates/renderTemplate';
import type { StoredTemplateVersion } from '../../src/templates/storedTemplateVersion';

let seq = 0;
function version(over: Partial<StoredTemplateVersion> = {}): StoredTemplateVersion {
  seq += 1;
  return {
    id: `v-${seq}`,
    templateId: 't-1',
    code: 'order_shipped',
    version: 1,
    name: 'Order shipped',
    category: null,
    critical: false,
    variables: { orderNo: 'string', 'note?': 'string' },
    channels: {
      mail: {
        account: 'smtp',
        subject: 'Order {{ orderNo }} & co',
        html: '<p>Hi {{ name }}: {{ orderNo }}</p>',
      },
      dingtalk: { msgtype: 'markdown', title: 'Order {{ orderNo }}', text: '### {{ orderNo }}' },
      im: {
        title: 'Order {{ orderNo }}',
        body: 'Shipped {{ orderNo }}',
        data: { order: '{{ orderNo }}', n: 3 },
      },
    },
    locales: {},
    ...over,
  };
}

describe('template renderer', () => {
  const renderer = createTemplateRenderer();

  it('escapes variables in mail html only', async () => {
    const out = await renderer.render(version(), {
      data: { orderNo: '<b>9</b>' },
      recipient: { name: 'Li & "Co"', email: 'li@example.com' },
    });
    expect(out.mail).toEqual({
      account: 'smtp',
      subject: 'Order <b>9</b> & co',
      html: '<p>Hi Li &amp; &#34;Co&#34;: &lt;b&gt;9&lt;/b&gt;</p>',
    });
    expect(out.im).toEqual({
      title: 'Order <b>9</b>',
      body: 'Shipped <b>9</b>',
      data: { order: '<b>9</b>', n: 3 },
    });
    expect(out.dingtalk).toEqual({ msgtype: 'markdown', title: 'Order <b>9</b>', text: '### <b>9</b>' });
  });

  it('lets `raw` opt out of escaping in html', async () => {
    const v = version({ channels: { mail: { subject: 's', html: '{{ frag | raw }}' } } });
    const out = await renderer.render(v, { data: { frag: '<i>x</i>' } });
    expect(out.mail?.html).toBe('<i>x</i>');
  });

  it('renders only the channels asked for', async () => {
    const out = await renderer.render(version(), { data: { orderNo: '1' }, channels: ['im'] });
    expect(Object.keys(out)).toEqual(['im']);
  });

  it('exposes recipient fields at top level and as `recipient`, data winning on a clash', async () => {
    const v = version({
      channels: { im: { title: '{{ name }}/{{ recipient.name }}/{{ userId }}', body: '{{ email }}' } },
    });
    const out = await renderer.render(v, {
      data: { orderNo: '1', name: 'from data' },
      recipient: { name: 'Li', userId: 'u-1' },
    });
    expect(out.im).toEqual({ title: 'from data/Li/u-1', body: '' });
  });

  describe('locales', () => {
    const v = version({
      locales: {
        zh: { mail: { subject: '订单 {{ orderNo }}' }, im: { body: '已发货' } },
        'en-GB': { im: { title: 'Parcel {{ orderNo }}' } },
      },
    });

    it('merges a locale over the base field by field', async () => {
      const out = await renderer.render(v, { data: { orderNo: '7' }, locale: 'zh' });
      expect(out.mail?.subject).toBe('订单 7');
      expect(out.mail?.html).toBe('<p>Hi : 7</p>');
      expect(out.im).toMatchObject({ title: 'Order 7', body: '已发货' });
    });

    it('prefers the recipient locale, falls back to the language, then to the base', async () => {
      const input = { data: { orderNo: '7' }, locale: 'en-GB' };
      expect(renderer.resolveLocale(v, { ...input, recipient: { locale: 'zh-CN' } })).toBe('zh');
      expect(renderer.resolveLocale(v, { ...input, recipient: { locale: 'fr' } })).toBe('en-GB');
      expect(renderer.resolveLocale(v, { locale: 'fr-FR' })).toBeUndefined();
      const out = await renderer.render(v, { ...input, recipient: { locale: 'zh-CN' } });
      expect(out.im?.body).toBe('已发货');
      const base = await renderer.render(v, { data: { orderNo: '7' }, locale: 'de' });
      expect(base.im?.body).toBe('Shipped 7');
    });
  });

  it('refuses to render an undeclared, unknown variable (strictVariables)', async () => {
    const v = version({ channels: { im: { title: 'x', body: 'Hello {{ nmae }}' } } });
    await expect(renderer.render(v, { data: { orderNo: '1' } })).rejects.toMatchObject({
      code: 'template_render',
      details: { channel: 'im', field: 'body', line: 1, column: 10 },
    });
  });

  it('renders an absent optional variable as empty', async () => {
    const v = version({ channels: { im: { title: 'x', body: '[{{ note }}]' } } });
    expect((await renderer.render(v, { data: { orderNo: '1' } })).im?.body).toBe('[]');
  });

  it.each([
    ['{{ constructor }}'],
    ['{{ orderNo.constructor.name }}'],
    ['{{ recipient.constructor.constructor }}'],
    ['{{ recipient.__proto__ }}'],
  ])('does not reach prototypes: %s', async (body) => {
    const v = version({ channels: { im: { title: 'x', body } } });
    await expect(renderer.render(v, { data: { orderNo: '1' } })).rejects.toBeInstanceOf(TemplateRenderError);
  });

  it('keeps own data keys named like prototype members as plain data', async () => {
    const v = version({ channels: { im: { title: 'x', body: '{{ constructor }}' } } });
    const out = await renderer.render(v, { data: { orderNo: '1', constructor: 'c' } });
    expect(out.im?.body).toBe('c');
  });

  it('hits the render limit on a runaway loop, quickly', async () => {
    const v = version({
      channels: {
        im: { title: 'x', body: '{% for i in (1..5000) %}{% for j in (1..5000) %}x{% endfor %}{% endfor %}' },
      },
    });
    const started = Date.now();
    await expect(renderer.render(v, { data: { orderNo: '1' } })).rejects.toThrow(/limit exceeded/);
    // The limit is 200 ms of the render's own CPU, stretched to 2 s of wall time on a starved machine.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('hits the memory limit on a huge range', async () => {
    const v = version({
      channels: { im: { title: 'x', body: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' } },
    });
    await expect(renderer.render(v, { data: { orderNo: '1' } })).rejects.toThrow(
      /memory alloc limit exceeded/,
    );
  });

  it('parses a version once per locale, then renders from the cache', async () => {
    const engines = createLiquidEngines();
    const parse = jest.spyOn(engines.text, 'parse');
    const cached = createTemplateRenderer({ engines });
    const v = version({ channels: { im: { title: 'T {{ orderNo }}', body: 'B' } } });
    for (let i = 0; i < 50; i += 1) await cached.render(v, { data: { orderNo: String(i) } });
    expect(parse).toHaveBeenCalledTimes(2);
    expect((await cached.render(v, { data: { orderNo: 'z' } })).im?.title).toBe('T z');
  });
});

describe('template syntax check', () => {
  const engines = createLiquidEngines();

  it('names channel, field, locale, line and column of each text that does not parse', () => {
    const problems = findSyntaxProblems(engines, {
      channels: { mail: { subject: 'ok', html: '<p>\n  {{ orderNo </p>' }, im: { title: 't', body: 'b' } },
      locales: { en: { im: { body: '{% if x %}never closed' } } },
    });
    expect(problems).toEqual([
      expect.objectContaining({ channel: 'mail', field: 'html', line: 2, column: 3 }),
      expect.objectContaining({ channel: 'im', field: 'body', locale: 'en', line: 1, column: 1 }),
    ]);
  });

  it.each([
    ["{% include '/etc/passwd' %}"],
    ["{% render 'secrets' %}"],
    ["{% layout 'base' %}"],
    ['{{ x | no_such_filter }}'],
  ])('refuses file tags and unknown filters at parse time: %s', (body) => {
    const problems = findSyntaxProblems(engines, { channels: { im: { title: 't', body } }, locales: {} });
    expect(problems).toHaveLength(1);
  });
});
