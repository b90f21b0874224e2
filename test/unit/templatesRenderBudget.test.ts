import { createLiquidEngines } from '../../src/templates/liquidEngine';
import { readCpu, RenderStarvedError } from '../../src/templates/renderBudget';
import { createTemplateRenderer, TemplateRenderError } from '../../src/templates/renderTemplate';
import type { StoredTemplateVersion } from '../../src/templates/storedTemplateVersion';

let seq = 0;
function version(channels: StoredTemplateVersion['channels']): StoredTemplateVersion {
  seq += 1;
  return {
    id: `budget-v-${seq}`,
    templateId: 't-1',
    code: 'budget',
    version: 1,
    name: 'Budget',
    category: null,
    critical: false,
    variables: { n: 'number', rows: 'array' },
    channels,
    locales: {},
  };
}

const recipients = Array.from({ length: 1000 }, (_, i) => ({ userId: `u${i}`, name: `User ${i}` }));

describe('render budget', () => {
  it('renders a heavy but legal template for 1,000 recipients at once without a limit hit', async () => {
    const renderer = createTemplateRenderer();
    // About a millisecond of work per render: a thousand of them interleaved used to share one
    // 200 ms wall-clock deadline and fail.
    const v = version({
      im: {
        title: 'Report for {{ name }}',
        body: '{% for r in rows %}{{ name }} {{ r.label | upcase }} {{ r.value | times: n }};{% endfor %}',
      },
    });
    const data = { n: 3, rows: Array.from({ length: 300 }, (_, i) => ({ label: `row${i}`, value: i })) };
    const out = await Promise.all(recipients.map((recipient) => renderer.render(v, { data, recipient })));
    expect(out).toHaveLength(1000);
    expect(out[999]?.im?.title).toBe('Report for User 999');
    expect(out[999]?.im?.body).toContain('User 999 ROW299 897;');
  });

  it('renders a part that reads no recipient field once per envelope', async () => {
    const engines = createLiquidEngines();
    const renderSync = jest.spyOn(engines.text, 'renderSync');
    const renderer = createTemplateRenderer({ engines });
    const v = version({ im: { title: 'Item {{ n }}', body: 'For {{ recipient.name }}' } });
    const data = { n: 7 };
    const out = await Promise.all(recipients.map((recipient) => renderer.render(v, { data, recipient })));
    // one shared title, one body per recipient
    expect(renderSync).toHaveBeenCalledTimes(1 + recipients.length);
    expect(new Set(out.map((o) => o.im?.title))).toEqual(new Set(['Item 7']));
    expect(out[5]?.im?.body).toBe('For User 5');
    // another envelope (another data object) renders its own shared parts
    const other = await renderer.render(v, { data: { n: 8 }, recipient: recipients[0] });
    expect(other.im?.title).toBe('Item 8');
  });

  function enginesWith(filter: (ms: number) => void) {
    const engines = createLiquidEngines();
    for (const e of [engines.text, engines.html]) e.registerFilter('stall', (v: number) => (filter(v), v));
    return engines;
  }

  it('calls a limit hit that the CPU time does not explain a starved render, retryable', async () => {
    // Atomics.wait blocks the thread without using the CPU, as a descheduled process would.
    const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    const renderer = createTemplateRenderer({ engines: enginesWith(sleep) });
    // Longer than the whole stretch (ten times the 200 ms limit), without using the CPU.
    const v = version({ im: { title: 't', body: '{{ 2500 | stall }}{{ n }}' } });
    const err = await renderer.render(v, { data: { n: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderStarvedError);
    expect((err as RenderStarvedError).code).toBe('render_starved');
  });

  it('gives a render starved once more wall time instead of failing it', async () => {
    let stalls = 1;
    const sleepOnce = (ms: number) => {
      if (stalls-- > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    };
    const renderer = createTemplateRenderer({ engines: enginesWith(sleepOnce) });
    const v = version({ im: { title: 't', body: '{{ 300 | stall }}{{ n }}' } });
    const out = await renderer.render(v, { data: { n: 1 } });
    expect(out.im?.body).toBe('3001');
  });

  // Spins until it has used `ms` of the CPU the renderer judges by (readCpu), so a busy machine cannot
  // make it look starved, and `ms` of wall time, so it passes the render limit even when the process's
  // other threads (a loaded jest worker's concurrent GC) fill a process-wide reading faster than the
  // wall clock runs.
  const spin = (ms: number) => {
    const startedAt = performance.now();
    const start = readCpu();
    for (;;) {
      const used = readCpu(start);
      if ((used.user + used.system) / 1000 >= ms && performance.now() - startedAt >= ms) return;
    }
  };

  it('keeps a limit hit from the template own work permanent, after two confirming renders', async () => {
    let calls = 0;
    const renderer = createTemplateRenderer({ engines: enginesWith((ms) => (calls++, spin(ms))) });
    const v = version({ im: { title: 't', body: '{{ 300 | stall }}{{ n }}' } });
    const err = await renderer.render(v, { data: { n: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateRenderError);
    expect((err as Error).message).toMatch(/template render limit exceeded/);
    expect(calls).toBe(3);
  });

  it('does not fail a render whose one CPU-bound limit hit a second render does not repeat', async () => {
    // The first render burns the CPU as a long garbage collection on the rendering thread would; the
    // template itself is cheap, so the confirmation render on a fresh clock succeeds.
    let stalls = 1;
    const renderer = createTemplateRenderer({ engines: enginesWith((ms) => stalls-- > 0 && spin(ms)) });
    const v = version({ im: { title: 't', body: '{{ 300 | stall }}{{ n }}' } });
    const out = await renderer.render(v, { data: { n: 1 } });
    expect(out.im?.body).toBe('3001');
  });

  it('does not fail a cheap render that two collections in a row slowed, and confirms after the loop ran', async () => {
    // Seen on Node 24 in a loaded jest worker: the first render and the one right after it both held a
    // long collection on the rendering thread. The confirming renders wait for the event loop's next turn.
    let stalls = 2;
    const turnsSeen: boolean[] = [];
    let turned = false;
    const renderer = createTemplateRenderer({
      engines: enginesWith((ms) => {
        turnsSeen.push(turned);
        turned = false;
        setImmediate(() => (turned = true));
        if (stalls-- > 0) spin(ms);
      }),
    });
    const v = version({ im: { title: 't', body: '{{ 300 | stall }}{{ n }}' } });
    const out = await renderer.render(v, { data: { n: 1 } });
    expect(out.im?.body).toBe('3001');
    expect(turnsSeen).toEqual([false, true, true]);
  });

  it('confirms a runaway field once per envelope, not once per recipient', async () => {
    let calls = 0;
    const renderer = createTemplateRenderer({ engines: enginesWith((ms) => (calls++, spin(ms))) });
    const v = version({ im: { title: 't', body: '{{ 300 | stall }}{{ name }}' } });
    const data = { n: 1 };
    const three = recipients.slice(0, 3);
    const results = await Promise.allSettled(
      three.map((recipient) => renderer.render(v, { data, recipient })),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TemplateRenderError);
    expect(calls).toBe(3 + 1 + 1);
  });
});
