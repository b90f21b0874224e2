import { TEMPLATE, chaosEnvelope } from './chaosDeployment';

/** One generated message: the bytes to publish, its AMQP message-id, and whether Herald must deliver it. */
export interface FuzzCase {
  messageId: string;
  kind: string;
  good: boolean;
  body: Buffer;
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with the same CHAOS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** `valid` with `data.deep` nested `depth` levels, built as text (JSON.stringify itself overflows). */
function withDeepData(valid: Record<string, unknown>, depth: number, open: string, close: string): Buffer {
  const text = JSON.stringify({ ...valid, data: { n: '1' } });
  return Buffer.from(text.replace('"n":"1"', `"n":"1","deep":${open.repeat(depth)}1${close.repeat(depth)}`));
}

/**
 * `count` messages: every tenth a good envelope (mail + IM), the rest poison of every kind the issue
 * names, with `hugeBodies` 10 MB bodies spread evenly through the stream.
 */
export function fuzzCases(count: number, hugeBodies: number, seed: number): FuzzCase[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const randomJson = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.2)
      return pick([null, true, false, rnd() * 1e9, -1, '', 'x'.repeat(Math.floor(rnd() * 50))]);
    if (r < 0.5) return Array.from({ length: Math.floor(rnd() * 5) }, () => randomJson(depth + 1));
    return Object.fromEntries(
      Array.from({ length: Math.floor(rnd() * 5) }, () => [
        pick(['id', 'template', 'to', 'data', 'x', '__proto__', 'constructor']),
        randomJson(depth + 1),
      ]),
    );
  };
  const hugeEvery = hugeBodies > 0 ? Math.floor(count / hugeBodies) : 0;
  const out: FuzzCase[] = [];
  for (let n = 0; n < count; n++) {
    const messageId = `fuzz-${n}`;
    const valid = chaosEnvelope(messageId, n) as Record<string, unknown>;
    if (n % 10 === 0) {
      out.push({ messageId, kind: 'good', good: true, body: json(valid) });
      continue;
    }
    if (hugeEvery > 0 && n % hugeEvery === 5) {
      const body = Buffer.alloc(10 * 1024 * 1024, 'a');
      Buffer.from(`{"id":"${messageId}","template":"${TEMPLATE}","data":{"n":"`).copy(body);
      body.write('"}}', body.length - 3);
      out.push({ messageId, kind: 'huge_10mb', good: false, body });
      continue;
    }
    const kinds: Array<[string, () => Buffer]> = [
      ['random_json', () => json(randomJson(0))],
      ['not_json', () => Buffer.from(JSON.stringify(valid).slice(0, Math.floor(rnd() * 60)))],
      [
        'invalid_utf8',
        () =>
          Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]),
      ],
      [
        'wrong_types',
        () =>
          json({
            ...valid,
            ...pick([
              { to: 'r@example.com' },
              { data: [1, 2] },
              { template: { code: 1 } },
              { channels: 'mail' },
              { to: [{ email: 42 }] },
              { id: 981 },
            ]),
          }),
      ],
      ['unknown_template', () => json({ ...valid, template: `no_such_${n}` })],
      ['missing_variables', () => json({ ...valid, data: {} })],
      ['unknown_channel', () => json({ ...valid, channels: ['dingtalk'] })],
      ['huge_field', () => json({ ...valid, data: { n: 'x'.repeat(200_000) } })],
      ['huge_id', () => json({ ...valid, id: 'i'.repeat(100_000) })],
      [
        'too_many_recipients',
        () =>
          json({ ...valid, to: Array.from({ length: 1500 }, (_, i) => ({ email: `r${i}@example.com` })) }),
      ],
      ['deep_json', () => Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)],
      ['deep_data', () => withDeepData(valid, 5000, '{"d":', '}')],
      ['nested_data', () => withDeepData(valid, 40, '[', ']')],
      ['very_deep_data', () => withDeepData(valid, 20_000, '[', ']')],
      [
        'deep_meta',
        () =>
          Buffer.from(
            JSON.stringify({ ...valid, meta: { source: 'x' } }).replace(
              '"source":"x"',
              `"source":"x","deep":${'['.repeat(30_000)}${']'.repeat(30_000)}`,
            ),
          ),
      ],
      [
        'prototype_keys',
        () =>
          Buffer.from(
            JSON.stringify({ ...valid, data: {} }).replace(
              '"data":{}',
              '"data":{"__proto__":{"n":"x"},"constructor":{"prototype":{}}}',
            ),
          ),
      ],
      ['extra_fields', () => json({ ...valid, unexpected: true })],
      ['empty', () => Buffer.alloc(0)],
    ];
    const [kind, make] = pick(kinds);
    out.push({ messageId, kind, good: false, body: make() });
  }
  return out;
}
