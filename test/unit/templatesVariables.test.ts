import { assertVariables, checkVariables } from '../../src/templates/checkVariables';
import { ValidationError } from '../../src/errors';

describe('checkVariables', () => {
  const declared = {
    orderNo: 'string',
    total: 'number',
    paid: 'boolean',
    eta: 'date',
    address: 'object',
    items: 'array',
    'note?': 'string',
  } as const;
  const good = {
    orderNo: '981',
    total: 12.5,
    paid: false,
    eta: '2026-11-25',
    address: { city: 'Hangzhou' },
    items: [],
  };

  it('accepts data that fits, with extra keys and an absent optional variable', () => {
    expect(checkVariables(declared, { ...good, extra: 1 })).toEqual([]);
  });

  it('names every missing required variable, not optional ones', () => {
    expect(checkVariables(declared, { orderNo: '1', total: 1, paid: true, eta: '2026-01-01' })).toEqual([
      { variable: 'address', problem: 'missing', expected: 'object', got: 'undefined' },
      { variable: 'items', problem: 'missing', expected: 'array', got: 'undefined' },
    ]);
  });

  it.each([
    ['orderNo', 981, 'number'],
    ['total', '12', 'string'],
    ['total', Number.NaN, 'number'],
    ['paid', 'yes', 'string'],
    ['eta', 'tomorrow', 'string'],
    ['eta', '2026-13-45', 'string'],
    ['eta', 1764000000000, 'number'],
    ['address', [], 'array'],
    ['address', null, 'null'],
    ['items', { length: 0 }, 'object'],
    ['note', 5, 'number'],
  ])('flags %s = %p as wrong_type (got %s)', (variable, value, got) => {
    const problems = checkVariables(declared, { ...good, [variable]: value });
    expect(problems).toEqual([expect.objectContaining({ variable, problem: 'wrong_type', got })]);
  });

  it.each(['2026-11-25', '2026-11-25T10:00:00Z', '2026-11-25T10:00:00.123+08:00', '2026-11-25T10:00'])(
    'accepts ISO 8601 date %s',
    (eta) => {
      expect(checkVariables({ eta: 'date' }, { eta })).toEqual([]);
    },
  );

  it('accepts a Date object as a date and null for an optional variable', () => {
    expect(checkVariables({ eta: 'date', 'note?': 'string' }, { eta: new Date(), note: null })).toEqual([]);
  });

  it('does not take inherited properties as given', () => {
    expect(checkVariables({ toString: 'string' } as const, {})).toEqual([
      { variable: 'toString', problem: 'missing', expected: 'string', got: 'undefined' },
    ]);
  });

  it('assertVariables throws 422 invalid_variables listing each problem', () => {
    let caught: unknown;
    try {
      assertVariables({ orderNo: 'string', total: 'number' }, { total: 'x' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const err = caught as ValidationError;
    expect(err).toMatchObject({ code: 'invalid_variables', status: 422 });
    expect(err.message).toMatch(/orderNo is missing/);
    expect(err.message).toMatch(/total should be number, got string/);
    expect(err.details).toHaveLength(2);
  });
});
