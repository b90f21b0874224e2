import fs from 'node:fs';
import path from 'node:path';
import amqplib from 'amqplib';
import { topologyNames } from '../../src/broker/topologyNames';
import { createSendBudget } from '../../src/senders/sendBudget';
import { heraldApi } from '../support/heraldApi';
import { startWebhookReceiver } from '../webhooks/support/webhookReceiver';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

const OPS = path.join(__dirname, '..', '..', 'ops');

/** Every PromQL expression the shipped alert rules and dashboard evaluate. */
function shippedExpressions(): string[] {
  const rules = fs.readFileSync(path.join(OPS, 'prometheus', 'herald-alerts.yml'), 'utf8');
  // `expr:` values are single-line, or folded (`>`) over the indented lines that follow.
  const fromRules = [...rules.matchAll(/expr: (>\n(?:\s{10,}.*\n)+|.*)/g)].map((m) =>
    (m[1] ?? '').replace(/^>\n/, '').replace(/\s+/g, ' '),
  );
  const dashboard = JSON.parse(
    fs.readFileSync(path.join(OPS, 'grafana', 'herald-dashboard.json'), 'utf8'),
  ) as {
    panels: Array<{ targets: Array<{ expr: string }> }>;
  };
  return [...fromRules, ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))];
}

/** Histogram series are exported as <name>_bucket/_sum/_count under one family name. */
const family = (series: string) => series.replace(/_(bucket|sum|count)$/, '');

interface Sample {
  name: string;
  labels: Set<string>;
}

function parseMetrics(text: string): { families: Set<string>; samples: Sample[] } {
  const families = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+)/.exec(line);
    if (type?.[1]) families.add(type[1]);
    const sample = /^([a-z_]+)(?:\{([^}]*)\})? /.exec(line);
    if (sample?.[1])
      samples.push({
        name: family(sample[1]),
        labels: new Set([...(sample[2] ?? '').matchAll(/(\w+)="/g)].map((m) => m[1] as string)),
      });
  }
  return { families, samples };
}

describeWith(['postgres', 'rabbitmq'], 'the shipped alert rules and dashboard against /metrics', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  beforeAll(async () => {
    dep = createTestDeployment({
      HERALD_RETRY_DELAYS: '100ms,100ms',
      HERALD_STATUS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      HERALD_STATUS_WEBHOOK_POLL_MS: '100',
    });
    h = await dep.start();
  });
  afterAll(() => dep.destroy());

  it('finds every metric and label they use, after real traffic', async () => {
    const api = heraldApi(h.baseUrl);
    const receiver = await startWebhookReceiver('ops-webhook-secret-0123456789');
    await api.post(
      '/v1/webhooks',
      { url: receiver.url, events: ['message.accepted'], secret: 'ops-webhook-secret-0123456789' },
      201,
    );
    // A vendor's penalty on a robot, recorded as a sender records one when told it sends too fast.
    await createSendBudget(h.runtime.ctx.db, { windows: [{ limit: 20, windowMs: 60_000 }] }).hold(
      'ops-robot',
      600_000,
      'sending too fast: held for 10 minutes',
    );
    // Port 1 refuses connections: a retryable failure, so retries and failed deliveries get counted.
    await api.createSmtpAccount('refusing', 1);
    await api.createTemplate({
      code: 'ops_traffic',
      name: 'Ops traffic',
      variables: {},
      channels: { mail: { subject: 'Hi', html: '<p>Hi</p>' }, im: { title: 'Hi', body: 'there' } },
    });
    await api.post(
      '/v1/messages',
      { id: 'ops-1', template: 'ops_traffic', to: [{ userId: 'u-ops', email: 'ops@example.com' }] },
      202,
    );
    const conn = await amqplib.connect(TEST_AMQP_URL);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish(
        topologyNames(dep.prefix).exchange,
        'notify.ops_traffic',
        Buffer.from('{"not": "an envelope"'),
        {
          messageId: 'ops-broken',
          persistent: true,
        },
      );
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    await api.finished('ops-1', 30_000);
    await eventually(async () => (await api.deadLetters()).items.length >= 1, 20_000, 'the dead letter');

    await eventually(async () => receiver.accepted().length >= 1, 20_000, 'the status webhook');
    await receiver.close();
    const metrics = parseMetrics(await (await fetch(`${h.baseUrl}/metrics`)).text());
    const problems: string[] = [];
    for (const expr of shippedExpressions()) {
      const used = [...new Set([...expr.matchAll(/\b(herald_[a-z_]+)/g)].map((m) => family(m[1] as string)))];
      expect(used.length).toBeGreaterThan(0);
      const labels = new Set<string>();
      for (const m of expr.matchAll(/\bby \(([^)]*)\)/g))
        for (const l of (m[1] ?? '').split(',')) if (l.trim() !== 'le') labels.add(l.trim());
      for (const m of expr.matchAll(/herald_[a-z_]+\{([^}]*)\}/g))
        for (const l of (m[1] ?? '').matchAll(/(\w+)\s*=~?/g)) labels.add(l[1] as string);
      for (const name of used) {
        if (!metrics.families.has(name)) problems.push(`${name} is not exported (in: ${expr})`);
        else if (!metrics.samples.some((s) => s.name === name))
          problems.push(`${name} has no sample (in: ${expr})`);
      }
      for (const label of labels)
        if (!metrics.samples.some((s) => used.includes(s.name) && s.labels.has(label)))
          problems.push(`no sample of ${used.join(', ')} has the label ${label} (in: ${expr})`);
    }
    expect(problems).toEqual([]);
  });
});
