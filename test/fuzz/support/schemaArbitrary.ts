import fc from 'fast-check';
import type { JsonSchema, OpenApiDocument } from '../../support/openapiContract';

/**
 * fast-check arbitraries from the JSON Schemas of the live OpenAPI document: `valid` follows the schema
 * (what JSON Schema can say; refinements it cannot say may still refuse the value), `invalid` breaks it in
 * one place (a wrong type, a missing required field, an unknown field, a NUL character, a bound passed).
 */

const MAX_DEPTH = 4;
const asSchema = (v: unknown): JsonSchema => (typeof v === 'object' && v !== null ? (v as JsonSchema) : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

export interface SchemaArbitraries {
  valid(schema: JsonSchema): fc.Arbitrary<unknown>;
  invalid(schema: JsonSchema): fc.Arbitrary<unknown>;
}

export function schemaArbitraries(doc: OpenApiDocument): SchemaArbitraries {
  const resolve = (schema: JsonSchema): JsonSchema => {
    let s = schema;
    for (let i = 0; i < 20 && typeof s.$ref === 'string'; i++) {
      const { $ref, ...rest } = s;
      const name = String($ref).replace('#/components/schemas/', '');
      s = { ...asSchema(doc.components?.schemas?.[name]), ...rest };
    }
    return s;
  };

  function typeOf(s: JsonSchema): string | undefined {
    if (Array.isArray(s.type)) return s.type.find((t) => t !== 'null') as string | undefined;
    if (typeof s.type === 'string') return s.type;
    if (s.properties) return 'object';
    return undefined;
  }

  function stringArb(s: JsonSchema): fc.Arbitrary<string> {
    const min = num(s.minLength) ?? 0;
    const max = Math.min(num(s.maxLength) ?? 40, Math.max(min, 40));
    const fits = (v: string) => v.length >= min && v.length <= (num(s.maxLength) ?? Infinity);
    switch (s.format) {
      case 'uuid':
        return fc.uuid();
      case 'date-time':
        return fc
          .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString());
      case 'email':
        return fc.emailAddress().filter(fits);
      case 'uri':
        return fc.webUrl().filter(fits);
      default:
        break;
    }
    if (typeof s.pattern === 'string') {
      const pattern = new RegExp(s.pattern);
      return fc.stringMatching(pattern, { size: 'small' }).filter(fits);
    }
    return fc.string({ minLength: min, maxLength: max });
  }

  function valid(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
    const s = resolve(schema);
    if ('const' in s) return fc.constant(s.const);
    if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
    const branches = asList(s.anyOf ?? s.oneOf).map(asSchema);
    if (branches.length && !s.properties && !s.type)
      return fc.oneof(...branches.map((b) => valid(b, depth + 1)));
    if (Array.isArray(s.allOf)) return valid(Object.assign({}, ...s.allOf.map(asSchema).map(resolve)), depth);
    switch (typeOf(s)) {
      case 'string':
        return stringArb(s);
      case 'integer': {
        const min = num(s.minimum) ?? (num(s.exclusiveMinimum) ?? -1000) + 1;
        const max = Math.min(num(s.maximum) ?? (num(s.exclusiveMaximum) ?? 1000) - 1, min + 1000);
        return fc.integer({ min, max });
      }
      case 'number': {
        const min = num(s.minimum) ?? -1000;
        const max = num(s.maximum) ?? min + 1000;
        return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
      }
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const minLength = num(s.minItems) ?? 0;
        const maxLength = Math.min(num(s.maxItems) ?? 3, minLength + 3);
        return depth > MAX_DEPTH
          ? fc.constant([])
          : fc.array(valid(asSchema(s.items), depth + 1), { minLength, maxLength });
      }
      case 'object':
        return objectArb(s, depth);
      default:
        return depth > MAX_DEPTH ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
    }
  }

  function objectArb(s: JsonSchema, depth: number): fc.Arbitrary<unknown> {
    const properties = asSchema(s.properties);
    const names = Object.keys(properties);
    if (names.length === 0) {
      if (depth > MAX_DEPTH || s.additionalProperties === false) return fc.constant({});
      const keys = s.propertyNames
        ? stringArb(resolve(asSchema(s.propertyNames)))
        : fc.string({ maxLength: 12 });
      const values = s.additionalProperties
        ? valid(asSchema(s.additionalProperties), depth + 1)
        : fc.jsonValue({ maxDepth: 1 });
      return fc.dictionary(keys, values, { maxKeys: 3, minKeys: num(s.minProperties) ?? 0 });
    }
    const required = new Set(asList(s.required).map(String));
    // "At least one of these": one branch's fields made required, so the object can satisfy it.
    const anyOfRequired = asList(s.anyOf)
      .map(asSchema)
      .map((b) => asList(b.required).map(String));
    const model = Object.fromEntries(names.map((n) => [n, valid(asSchema(properties[n]), depth + 1)]));
    const forbidden = asList(asSchema(s.not).required).map(String);
    const minProperties = num(s.minProperties) ?? 0;
    const pick = anyOfRequired.length ? fc.constantFrom(...anyOfRequired) : fc.constant<string[]>([]);
    return pick.chain((extra) => {
      const requiredKeys = [...new Set([...required, ...extra.filter((n) => names.includes(n))])];
      return fc
        .record(model, { requiredKeys })
        .map((o) => {
          const out = { ...o } as Record<string, unknown>;
          if (forbidden.length && forbidden.every((n) => n in out))
            delete out[forbidden[forbidden.length - 1]!];
          return out;
        })
        .filter((o) => Object.keys(o).length >= minProperties || names.length < minProperties);
    });
  }

  function invalid(schema: JsonSchema): fc.Arbitrary<unknown> {
    const s = resolve(schema);
    const type = typeOf(s);
    const wrongType: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
      ...[null, 17, -1.5, true, 'text', [], [1, 'x'], {}, { nested: { deep: [] } }].filter(
        (v) =>
          (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v) !==
          (type === 'integer' ? 'number' : type),
      ),
    );
    const options: Array<fc.Arbitrary<unknown>> = [wrongType];
    if (type === 'string') {
      options.push(stringArb(s).map((v) => `${v}\u0000`));
      if (num(s.maxLength) !== undefined) options.push(fc.constant('x'.repeat((num(s.maxLength) ?? 0) + 1)));
      if ((num(s.minLength) ?? 0) > 0) options.push(fc.constant(''));
    }
    if (type === 'integer' || type === 'number') {
      if (num(s.minimum) !== undefined) options.push(fc.constant((num(s.minimum) ?? 0) - 1));
      if (num(s.maximum) !== undefined) options.push(fc.constant((num(s.maximum) ?? 0) + 1));
      options.push(fc.constant(1.5));
    }
    if (type === 'object' && s.properties) {
      const base = valid(s);
      const names = Object.keys(asSchema(s.properties));
      const required = asList(s.required).map(String);
      if (required.length)
        options.push(
          fc.tuple(base, fc.constantFrom(...required)).map(([o, drop]) => {
            const out = { ...(o as Record<string, unknown>) };
            delete out[drop];
            return out;
          }),
        );
      if (s.additionalProperties === false)
        options.push(base.map((o) => ({ ...(o as Record<string, unknown>), unexpectedField: 1 })));
      options.push(
        fc.tuple(base, fc.constantFrom(...names)).chain(([o, name]) =>
          invalid(asSchema(asSchema(s.properties)[name])).map((bad) => ({
            ...(o as Record<string, unknown>),
            [name]: bad,
          })),
        ),
      );
    }
    return fc.oneof(...options);
  }

  return { valid: (s) => valid(s), invalid };
}

/** A path or query parameter as text: the value's JSON for objects, else its string form. */
export const asParam = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);

/** Path and query garbage a careless client or an attacker sends. */
export const garbageParam = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '..%2F..',
    '-1',
    '1e309',
    'null',
    '[]',
    '{"$gt":""}',
    "' OR 1=1 --",
    '😀'.repeat(20),
  ),
);
