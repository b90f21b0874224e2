import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** The parts of an OpenAPI 3.1 document the contract checks read. */
export interface OpenApiDocument {
  security?: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}
export interface OpenApiParameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}
export interface OpenApiOperation {
  summary?: string;
  description?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: JsonSchema }> }>;
}
// JSON Schema is open-ended: what a generator or checker reads, it checks for itself.
export type JsonSchema = Record<string, unknown>;

export const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

export interface Operation {
  key: string;
  method: (typeof METHODS)[number];
  path: string;
  op: OpenApiOperation;
  /** Which tokens the operation takes; empty: public. */
  schemes: string[];
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const security = op.security ?? doc.security ?? [];
      out.push({
        key: `${method.toUpperCase()} ${path}`,
        method,
        path,
        op,
        schemes: [...new Set(security.flatMap((s) => Object.keys(s)))],
      });
    }
  return out;
}

/** What a response must be to match the document; each string is one way it does not. */
export interface ContractCheck {
  (operation: Operation, status: number, contentType: string | undefined, body: string): string[];
}

/** Checks responses against the document's statuses, content types and schemas (JSON Schema 2020-12). */
export function createContractCheck(doc: OpenApiDocument): ContractCheck {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(doc as unknown as JsonSchema, 'herald-openapi');
  const compiled = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string) => {
    let v = compiled.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `herald-openapi#${pointer}` });
      compiled.set(pointer, v);
    }
    return v;
  };
  const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

  return (operation, status, contentType, body) => {
    const documented = operation.op.responses[String(status)] ?? operation.op.responses.default;
    if (!documented) return [`status ${status} is not documented`];
    const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const content = documented.content ?? {};
    if (Object.keys(content).length === 0)
      return body.length === 0 || status === 101 ? [] : [`status ${status} documents no body, got ${media}`];
    const entry = content[media];
    if (!entry) return [`status ${status} documents ${Object.keys(content).join(', ')}, got "${media}"`];
    if (!entry.schema) return [];
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return media.includes('json') ? [`status ${status}: the ${media} body is not JSON`] : [];
    }
    const pointer = `/paths/${escape(operation.path)}/${operation.method}/responses/${status}/content/${escape(media)}/schema`;
    const validate = validatorAt(pointer);
    if (validate(json)) return [];
    return (validate.errors ?? []).map(
      (e) => `status ${status}: body${e.instancePath} ${e.message ?? 'does not match'} (${e.schemaPath})`,
    );
  };
}

/** A validator for one schema of the document, e.g. `#/components/schemas/TemplateCreateInput`. */
export function schemaValidator(doc: OpenApiDocument, ref: string): ValidateFunction {
  const ajv = new Ajv2020({ strict: false, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(doc as unknown as JsonSchema, 'herald-openapi');
  return ajv.compile({ $ref: `herald-openapi${ref}` });
}
