import type { TemplateVariables, VariableType } from '../contract/template';
import { ValidationError } from '../errors';

export interface VariableProblem {
  variable: string;
  problem: 'missing' | 'wrong_type';
  expected: VariableType;
  /** What was given: a JSON type name (`null`, `string`, ...), or `undefined` when missing. */
  got: string;
}

/** Calendar date or date-time with optional fraction and offset, as JSON carries dates. */
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

export function typeOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  return typeof value;
}

function matches(type: VariableType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      if (value instanceof Date) return !Number.isNaN(value.getTime());
      return typeof value === 'string' && ISO_8601.test(value) && !Number.isNaN(Date.parse(value));
    case 'object':
      return typeOfValue(value) === 'object';
    case 'array':
      return Array.isArray(value);
  }
}

/** Splits `name?` into its name and optionality. */
export function parseVariableName(declared: string): { name: string; optional: boolean } {
  return declared.endsWith('?')
    ? { name: declared.slice(0, -1), optional: true }
    : { name: declared, optional: false };
}

/**
 * Every declared variable that `data` lacks or gives with the wrong type. Keys `data` has beyond the
 * declared ones are allowed; an optional variable given as null counts as absent.
 */
export function checkVariables(
  declared: TemplateVariables,
  data: Record<string, unknown>,
): VariableProblem[] {
  const problems: VariableProblem[] = [];
  for (const [key, expected] of Object.entries(declared)) {
    const { name, optional } = parseVariableName(key);
    const present = Object.hasOwn(data, name) && data[name] !== undefined;
    const value = present ? data[name] : undefined;
    if (!present || (optional && value === null)) {
      if (!optional) problems.push({ variable: name, problem: 'missing', expected, got: 'undefined' });
      continue;
    }
    if (!matches(expected, value))
      problems.push({ variable: name, problem: 'wrong_type', expected, got: typeOfValue(value) });
  }
  return problems;
}

/** Throws 422 `invalid_variables` naming each problem; what preview and dispatch call. */
export function assertVariables(declared: TemplateVariables, data: Record<string, unknown>): void {
  const problems = checkVariables(declared, data);
  if (problems.length === 0) return;
  const summary = problems
    .map((p) =>
      p.problem === 'missing'
        ? `${p.variable} is missing (${p.expected})`
        : `${p.variable} should be ${p.expected}, got ${p.got}`,
    )
    .join('; ');
  throw new ValidationError('invalid_variables', `the data does not fit the template: ${summary}`, problems);
}
