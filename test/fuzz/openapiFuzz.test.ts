import fc from 'fast-check';
import {
  createContractCheck,
  operationsOf,
  type ContractCheck,
  type JsonSchema,
  type OpenApiDocument,
  type Operation,
} from '../support/openapiContract';
import { describeWith } from '../support/services';
import { heraldApi } from '../support/heraldApi';
import { ADMIN_TOKEN } from '../support/testApp';
import { createTestDeployment, type TestDeployment, type TestHerald } from '../support/testHerald';
import {
  hooks,
  userToken,
  type Answer,
  type Auth,
  type FuzzContext,
  type RequestParts,
} from './operationHooks';
import { asParam, garbageParam, schemaArbitraries, type SchemaArbitraries } from './support/schemaArbitrary';

/**
 * Every operation of the live OpenAPI document, fuzzed against a real Herald on PostgreSQL and RabbitMQ:
 * generated valid and invalid inputs, with the right token, none and a wrong one. No answer may be a 5xx,
 * and each must have a documented status, content type and schema; each operation must also answer a 2xx
 * to a valid request with the right token and a 401 without one, and a 403 (never a 5xx, never a 2xx) to
 * every request made with a scoped API key that lacks the scope it needs. HERALD_FUZZ_RUNS scales the examples
 * per operation and kind (default 10), HERALD_FUZZ_SEED replays a run.
 */

const RUNS = Number(process.env.HERALD_FUZZ_RUNS ?? 10);
const SEED = Number(process.env.HERALD_FUZZ_SEED ?? Date.now() % 2_147_483_647);
const ORDER: Record<string, number> = { get: 0, post: 1, put: 2, patch: 3, delete: 4 };
const WRONG_TOKEN = 'not-a-token-herald-knows-0000';
/** The line the document adds to each /v1 operation's description (src/api/v1.ts). */
const NEEDS_SCOPE = /Needs an API key with the `(\w+)` scope|Needs an admin key/;
const SCOPED_KEYS = ['publish', 'read'] as const;
type ScopedKey = (typeof SCOPED_KEYS)[number];

/** The scope a documented operation needs of an API key; undefined where the document names none. */
function neededScope(o: Operation): string | undefined {
  const m = NEEDS_SCOPE.exec(o.op.description ?? '');
  return m ? (m[1] ?? 'admin') : undefined;
}

interface Tally {
  valid: number;
  invalid: number;
  noToken: number;
  wrongToken: number;
  statuses: Record<number, number>;
  twoHundreds: number;
  unauthorized: number;
}

describeWith(['postgres', 'rabbitmq'], 'property-based fuzz of every documented operation', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let doc: OpenApiDocument;
  let check: ContractCheck;
  let arbs: SchemaArbitraries;
  let counter = 0;
  let ctx: FuzzContext;
  const failures: string[] = [];
  const tallies = new Map<string, Tally>();
  const scopedKeys = {} as Record<ScopedKey, string>;

  beforeAll(async () => {
    dep = createTestDeployment({
      // Thousands of requests without a token from one address: counted, but never locked out here.
      HERALD_AUTH_FAILURE_LIMIT: '1000000',
      HERALD_RETRY_DELAYS: '100ms,100ms',
    });
    h = await dep.start();
    doc = (await (await fetch(`${h.baseUrl}/docs/json`)).json()) as OpenApiDocument;
    check = createContractCheck(doc);
    arbs = schemaArbitraries(doc);
    ctx = {
      baseUrl: h.baseUrl,
      queuePrefix: dep.prefix,
      unique: (prefix) => `${prefix}-${SEED}-${++counter}`.replace(/-/g, prefix.includes('_') ? '_' : '-'),
    };
    for (const scope of SCOPED_KEYS)
      scopedKeys[scope] = (
        await heraldApi(h.baseUrl).post<{ key: string }>(
          '/v1/keys',
          { name: `fuzz-${scope}`, scopes: [scope] },
          201,
        )
      ).key;
  }, 60_000);
  afterAll(() => dep?.destroy(), 60_000);

  const sample = <T>(arb: fc.Arbitrary<T>, n: number): T[] =>
    fc.sample(arb, { numRuns: n, seed: SEED + ++counter });

  function headersFor(auth: Auth | ScopedKey): Record<string, string> {
    if (auth === 'admin') return { authorization: `Bearer ${ADMIN_TOKEN}` };
    if (auth === 'publish' || auth === 'read') return { authorization: `Bearer ${scopedKeys[auth]}` };
    if (auth === 'user') return { authorization: `Bearer ${userToken()}` };
    if (auth === 'wrong') return { authorization: `Bearer ${WRONG_TOKEN}` };
    return {};
  }

  /** Fills what `parts` leaves out: path parameters from the hook or generated, required query, the body. */
  function generatedParts(
    o: Operation,
    kind: 'valid' | 'invalid',
    fixed: Record<string, string>,
  ): fc.Arbitrary<RequestParts> {
    const params = o.op.parameters ?? [];
    const pick = (schema: JsonSchema, required: boolean) =>
      kind === 'valid'
        ? arbs.valid(schema)
        : fc.oneof(arbs.invalid(schema), garbageParam, ...(required ? [] : [arbs.valid(schema)]));
    const pathArbs = Object.fromEntries(
      params
        .filter((p) => p.in === 'path')
        .map((p) => [
          p.name,
          fixed[p.name] !== undefined && kind === 'valid'
            ? fc.constant(fixed[p.name])
            : pick(p.schema, true)
                .map(asParam)
                // A segment of "." or "..", even as %2E%2E, is a dot segment to every URL parser: no client
                // can send it as a value, and the request it becomes is another route's.
                .filter((v) => v !== '.' && v !== '..'),
        ]),
    );
    const queryArbs = Object.fromEntries(
      params
        .filter((p) => p.in === 'query')
        .map((p) => [p.name, pick(p.schema, Boolean(p.required)).map(asParam)]),
    );
    const requiredQuery = params.filter((p) => p.in === 'query' && p.required).map((p) => p.name);
    const bodySchema = o.op.requestBody?.content['application/json']?.schema;
    const body = bodySchema
      ? kind === 'valid'
        ? arbs.valid(bodySchema)
        : fc.oneof(arbs.invalid(bodySchema), fc.jsonValue())
      : fc.constant(undefined);
    return fc.record({
      params: fc.record(pathArbs as Record<string, fc.Arbitrary<string>>),
      query: fc.record(queryArbs as Record<string, fc.Arbitrary<string>>, { requiredKeys: requiredQuery }),
      body,
    });
  }

  async function send(
    o: Operation,
    parts: RequestParts,
    auth: Auth | ScopedKey,
    raw?: { contentType: string; text: string },
  ): Promise<Answer> {
    let path = o.path;
    for (const [name, value] of Object.entries(parts.params ?? {})) {
      path = path.replace(`{${name}}`, encodeURIComponent(value) || '%20');
    }
    const url = new URL(path, h.baseUrl);
    for (const [k, v] of Object.entries(parts.query ?? {})) url.searchParams.set(k, v);
    const headers = headersFor(auth);
    const hook = hooks[o.key];
    if (hook?.send) return hook.send(ctx, url, headers);
    const hasBody = raw !== undefined || parts.body !== undefined;
    const res = await fetch(url, {
      method: o.method.toUpperCase(),
      headers: hasBody ? { ...headers, 'content-type': raw?.contentType ?? 'application/json' } : headers,
      body: raw ? raw.text : parts.body === undefined ? undefined : JSON.stringify(parts.body),
    });
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? undefined,
      body: await res.text(),
    };
  }

  function record(
    o: Operation,
    kind: keyof Pick<Tally, 'valid' | 'invalid' | 'noToken' | 'wrongToken'>,
    parts: RequestParts,
    answer: Answer,
  ) {
    const t = tallies.get(o.key)!;
    t[kind]++;
    t.statuses[answer.status] = (t.statuses[answer.status] ?? 0) + 1;
    const shown = JSON.stringify(parts).slice(0, 300);
    if (answer.status >= 500)
      failures.push(`${o.key} [${kind}] ${answer.status} for ${shown}: ${answer.body.slice(0, 300)}`);
    for (const problem of check(o, answer.status, answer.contentType, answer.body))
      failures.push(`${o.key} [${kind}] ${problem} for ${shown}: ${answer.body.slice(0, 200)}`);
  }

  /** Path parameters of a resource that exists: the hook's, else the first item its collection lists. */
  async function knownParams(o: Operation): Promise<Record<string, string>> {
    const hook = hooks[o.key];
    if (hook?.params) return hook.params(ctx);
    const names = (o.op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
    if (names.length !== 1) return {};
    const collection = o.path.slice(0, o.path.lastIndexOf(`/{${names[0]}}`));
    const res = await fetch(new URL(collection, h.baseUrl), { headers: headersFor('admin') });
    if (!res.ok) return {};
    const page = (await res.json()) as { items?: Array<Record<string, unknown>> };
    const item = page.items?.[0];
    const name = names[0]!;
    const value = item?.[name] ?? item?.id ?? item?.name ?? item?.code;
    return value === undefined ? {} : { [name]: String(value) };
  }

  // First, while every fixture and key is as made: a refused request changes nothing, but the main run
  // revokes keys and deletes what it finds.
  it('answers a scoped key without the scope an operation needs 403, never a 5xx or a 2xx', async () => {
    const lines: string[] = [];
    const scopeFailures: string[] = [];
    for (const o of operationsOf(doc)) {
      const needed = neededScope(o);
      const hook = hooks[o.key];
      // User-token operations (the socket, /v1/me) take no API key at all: their 401s are checked below.
      if (!needed || o.schemes.length === 0 || hook?.auth === 'user' || hook?.send) continue;
      const fixed = await knownParams(o);
      const known: RequestParts[] = hook?.valid ? [await hook.valid(ctx)] : [];
      const requests = [
        ...known,
        ...sample(generatedParts(o, 'valid', fixed), Math.ceil(RUNS / 3)),
        ...sample(generatedParts(o, 'invalid', fixed), Math.ceil(RUNS / 3)),
      ].map((parts) => ({ ...parts, params: { ...fixed, ...parts.params } }));
      for (const key of SCOPED_KEYS.filter((k) => needed !== k)) {
        const statuses: Record<number, number> = {};
        for (const parts of requests) {
          const answer = await send(o, parts, key);
          statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
          const shown = JSON.stringify(parts).slice(0, 200);
          if (answer.status !== 403)
            scopeFailures.push(
              `${o.key} needs ${needed}: a ${key} key got ${answer.status} for ${shown}: ${answer.body.slice(0, 200)}`,
            );
          else if (!answer.body.includes('insufficient_scope'))
            scopeFailures.push(
              `${o.key}: a ${key} key's 403 is not insufficient_scope: ${answer.body.slice(0, 200)}`,
            );
          for (const problem of check(o, answer.status, answer.contentType, answer.body))
            scopeFailures.push(`${o.key} [${key} key] ${problem}: ${answer.body.slice(0, 200)}`);
        }
        lines.push(
          `${o.key.padEnd(48)} needs ${needed.padEnd(7)}  ${key} key ${requests.length}  statuses ${JSON.stringify(statuses)}`,
        );
      }
    }
    process.stdout.write(`\nOpenAPI fuzz, scoped keys, seed ${SEED}:\n${lines.join('\n')}\n`);
    // Every admin route and each scope's routes were tried with a key lacking it.
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.some((l) => /needs read/.test(l))).toBe(true);
    expect(lines.some((l) => /needs publish/.test(l))).toBe(true);
    expect(scopeFailures.slice(0, 40)).toEqual([]);
  }, 120_000);

  it('answers every operation as documented, never with a 5xx', async () => {
    const ops = operationsOf(doc).sort((a, b) => (ORDER[a.method] ?? 9) - (ORDER[b.method] ?? 9));
    for (const o of ops) {
      tallies.set(o.key, {
        valid: 0,
        invalid: 0,
        noToken: 0,
        wrongToken: 0,
        statuses: {},
        twoHundreds: 0,
        unauthorized: 0,
      });
      const hook = hooks[o.key];
      const rightAuth: Auth = o.schemes.length === 0 ? 'none' : (hook?.auth ?? 'admin');
      const fixed = await knownParams(o);

      // The right token and a valid request: the hook's, else generated ones until one is taken.
      const known: RequestParts[] = hook?.valid ? [await hook.valid(ctx)] : [];
      const generatedValid = sample(generatedParts(o, 'valid', fixed), RUNS);
      // The first generated one as a careful client sends it: optional query parameters left out.
      const optional = new Set(
        (o.op.parameters ?? []).filter((p) => p.in === 'query' && !p.required).map((p) => p.name),
      );
      if (generatedValid[0])
        generatedValid[0] = {
          ...generatedValid[0],
          query: Object.fromEntries(
            Object.entries(generatedValid[0].query ?? {}).filter(([k]) => !optional.has(k)),
          ),
        };
      for (const parts of [...known, ...generatedValid]) {
        const merged = { ...parts, params: { ...fixed, ...parts.params } };
        const answer = await send(o, merged, rightAuth);
        record(o, 'valid', merged, answer);
        if ((answer.status >= 200 && answer.status < 300) || answer.status === 101)
          tallies.get(o.key)!.twoHundreds++;
      }
      if (tallies.get(o.key)!.twoHundreds === 0 && !hook?.valid)
        failures.push(
          `${o.key}: no 2xx for any valid request with the right token; add a hook in test/fuzz/operationHooks.ts`,
        );
      else if (hook?.valid && tallies.get(o.key)!.twoHundreds === 0)
        failures.push(`${o.key}: the hook's valid request was not answered 2xx`);

      for (const parts of sample(generatedParts(o, 'invalid', fixed), RUNS))
        record(o, 'invalid', parts, await send(o, parts, rightAuth));
      // Bodies that are not JSON, or not sent as JSON.
      if (o.op.requestBody)
        for (const raw of [
          { contentType: 'application/json', text: '{"unterminated": ' },
          { contentType: 'application/xml', text: '<a/>' },
        ])
          record(o, 'invalid', { params: fixed }, await send(o, { params: fixed }, rightAuth, raw));

      if (o.schemes.length === 0) continue;
      const anyParts = [
        ...known.slice(0, 1),
        ...sample(generatedParts(o, 'valid', fixed), Math.ceil(RUNS / 3)),
        ...sample(generatedParts(o, 'invalid', fixed), Math.ceil(RUNS / 3)),
      ];
      for (const parts of anyParts) {
        const merged = { ...parts, params: { ...fixed, ...parts.params } };
        for (const auth of ['none', 'wrong'] as const) {
          const answer = await send(o, merged, auth);
          record(o, auth === 'none' ? 'noToken' : 'wrongToken', merged, answer);
          if (answer.status === 401) tallies.get(o.key)!.unauthorized++;
          if (answer.status < 400)
            failures.push(
              `${o.key} answered ${answer.status} to a request ${auth === 'none' ? 'without a token' : 'with a wrong token'}`,
            );
        }
      }
      if (tallies.get(o.key)!.unauthorized === 0) failures.push(`${o.key}: no 401 without a token`);
    }

    const lines = [...tallies].map(
      ([key, t]) =>
        `${key.padEnd(48)} valid ${String(t.valid).padStart(3)}  invalid ${String(t.invalid).padStart(3)}  no token ${String(t.noToken).padStart(3)}  wrong token ${String(t.wrongToken).padStart(3)}  2xx ${t.twoHundreds}  statuses ${JSON.stringify(t.statuses)}`,
    );
    process.stdout.write(`\nOpenAPI fuzz, seed ${SEED}, ${RUNS} runs per kind:\n${lines.join('\n')}\n`);
    expect(tallies.size).toBeGreaterThan(20);
    expect(failures.slice(0, 40)).toEqual([]);
  }, 170_000);
});
