/** Grammar acceptance and rejection (FLT-001..009, FLT-060/061), on the unresolved tree. */
import { parseFilterSyntax, type ParsedFilter } from '../../src/filter'

const ok = (f: string): ParsedFilter => parseFilterSyntax(f)
const fails = (f: string): string => {
  try {
    parseFilterSyntax(f)
  } catch (e) {
    expect(e).toMatchObject({ status: 400, scimType: 'invalidFilter' })
    return (e as Error).message
  }
  throw new Error(`accepted: ${f}`)
}

describe('FLT-001 accepted language', () => {
  test.each([
    'userName eq "x"',
    'title pr',
    'name.familyName co "O\'Malley"',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"',
    'members[$ref eq "x"]',
    'a eq 1 and b eq 2 or c eq 3',
    'not(a pr)',
    'not (a pr)',
    'NOT (a pr)',
    '((a pr))',
    'emails[type eq "work" or (type eq "home" and value ew "@example.com")]',
    'emails[not (type eq "work")]',
    'emails[ type eq "work" ]',
    'emails[type eq "work"].value eq "x"',
    'emails[type eq "work"].value pr',
    'meta.created gt 2015-10-10T14:38:21.8617979-07:00',
    'a eq -1.5e+3',
    'a eq 0',
    'a eq TRUE',
    'a eq False',
    'a eq NULL',
    "a eq 'single'",
    'a eq bare-word',
    '(meta.resourceType eq User)',
    '\t userName\teq\t"x" \t',
  ])('accepts %s', (f) => {
    expect(ok(f)).toBeDefined()
  })
})

describe('FLT-001 rejected language', () => {
  test.each([
    ['userName eq "x" and', 'dangling and'],
    ['userName eq', 'missing value'],
    ['userName', 'missing operator'],
    ['eq "x"', 'missing attribute'],
    ['userName eq "x', 'unterminated string'],
    ['userName eq "a\\qb"', 'bad escape'],
    ['userName eq "a\\u12"', 'short \\u escape'],
    ['(userName eq "x"', 'unbalanced ('],
    ['userName eq "x")', 'unbalanced )'],
    ['userName eq"x"', 'no space before value'],
    ['userName  pr x', 'trailing garbage'],
    ['not userName eq "x"', 'FLT-006 not without parentheses'],
    ['emails[type eq "work" and value[x eq "y"]]', 'FLT-007 nested valuePath'],
    ['emails[]', 'empty brackets'],
    ['emails [type eq "work"]', 'space before ['],
    ['userName. eq "x"', 'bad path'],
    ['name.givenName.x eq "x"', 'sub-sub-attribute'],
    ['1abc eq "x"', 'attribute must start with a letter'],
    ['userName\neq "x"', 'newline is not whitespace'],
    ['a eq 1 AND', 'dangling AND'],
    ['userName eq "x" xor title pr', 'unknown logical operator'],
  ])('rejects %s (%s)', (f) => {
    fails(f)
  })

  test('FLT-033 unknown operator is named', () => {
    expect(fails('userName regex "x"')).toContain("'regex'")
    expect(fails('emails[type like "x"]')).toContain("'like'")
  })
  test('syntax errors name the column', () => {
    expect(fails('userName eq "x" and')).toMatch(/column 20/)
    expect(fails('userName eq "x" )')).toMatch(/column \d+/)
  })
  test('FLT-009 empty and whitespace-only filters', () => {
    expect(fails('')).toMatch(/at least one/)
    expect(fails('   \t ')).toMatch(/at least one/)
  })
})

describe('FLT-002 case-insensitive keywords and operators', () => {
  test('operators', () => {
    for (const op of ['EQ', 'Eq', 'eQ', 'NE', 'CO', 'SW', 'EW', 'GT', 'GE', 'LT', 'LE']) {
      expect(ok(`a ${op} "x"`)).toMatchObject({ type: 'compare', op: op.toLowerCase() })
    }
    expect(ok('a PR')).toEqual({ type: 'present', path: { text: 'a', name: 'a' } })
  })
  test('and/or/not', () => {
    expect(ok('a pr AND b pr OR NoT (c pr)')).toMatchObject({ type: 'or', filters: [{ type: 'and' }, { type: 'not' }] })
  })
  test('literals', () => {
    expect(ok('a eq tRuE')).toMatchObject({ value: true, valueKind: 'boolean' })
    expect(ok('a eq FALSE')).toMatchObject({ value: false, valueKind: 'boolean' })
    expect(ok('a eq Null')).toMatchObject({ value: null, valueKind: 'null' })
  })
})

describe('FLT-032 precedence: not > and > or, parentheses override, flat n-ary lists', () => {
  test('and binds tighter than or', () => {
    expect(ok('a pr or b pr and c pr')).toMatchObject({
      type: 'or',
      filters: [{ type: 'present' }, { type: 'and', filters: [{ path: { name: 'b' } }, { path: { name: 'c' } }] }],
    })
  })
  test('parentheses override', () => {
    expect(ok('(a pr or b pr) and c pr')).toMatchObject({
      type: 'and',
      filters: [{ type: 'or' }, { type: 'present', path: { name: 'c' } }],
    })
  })
  test('chains are flat', () => {
    const t = ok('a pr or b pr or (c pr or d pr) or e pr')
    expect(t.type).toBe('or')
    expect(t.type === 'or' && t.filters.length).toBe(5)
    const u = ok('a pr and b pr and c pr')
    expect(u.type === 'and' && u.filters.length).toBe(3)
  })
  test('not applies to its group only', () => {
    expect(ok('not (a pr) and b pr')).toMatchObject({ type: 'and', filters: [{ type: 'not' }, { type: 'present' }] })
  })
})

describe('FLT-004 JSON strings', () => {
  const value = (lit: string): unknown => (ok(`a eq ${lit}`) as { value: unknown }).value
  test.each([
    ['"\\""', '"'],
    ['"\\\\"', '\\'],
    ['"\\/"', '/'],
    ['"\\b\\f\\n\\r\\t"', '\b\f\n\r\t'],
    ['"\\u00e9"', '\u00e9'],
    ['"\\uD83D\\uDE00"', '\u{1F600}'],
    ['"raw \u00fc\u{1F600}"', 'raw \u00fc\u{1F600}'],
    ['""', ''],
    ['"a and b or c"', 'a and b or c'],
    ['"(x)[y]"', '(x)[y]'],
  ])('%s', (lit, expected) => {
    expect(value(lit)).toBe(expected)
  })
  test('raw control characters are rejected', () => {
    fails('a eq "x\u0001y"')
  })
})

describe('FLT-005 JSON numbers', () => {
  test.each([
    ['0', 0],
    ['-0', -0],
    ['42', 42],
    ['-1.5', -1.5],
    ['1e3', 1000],
    ['2.5E-2', 0.025],
  ])('%s', (lit, n) => {
    expect(ok(`a eq ${lit}`)).toMatchObject({ value: n, valueKind: 'number' })
  })
  test('non-JSON numbers become bare words (FLT-061)', () => {
    expect(ok('a eq 01')).toMatchObject({ value: '01', valueKind: 'bare' })
    expect(ok('a eq 1.')).toMatchObject({ value: '1.', valueKind: 'bare' })
  })
})

describe('FLT-060/061 IdP compatibility', () => {
  test('FLT-060 emails[type eq "work"].value eq "x" means same element', () => {
    expect(ok('emails[type eq "work"].value eq "x"')).toEqual({
      type: 'valuePath',
      path: { text: 'emails', name: 'emails' },
      filter: {
        type: 'and',
        filters: [
          { type: 'compare', path: { text: 'type', name: 'type' }, op: 'eq', value: 'work', valueKind: 'string' },
          { type: 'compare', path: { text: 'value', name: 'value' }, op: 'eq', value: 'x', valueKind: 'string' },
        ],
      },
    })
  })
  test('FLT-061 bare words', () => {
    expect(ok('externalId eq jyoung')).toMatchObject({ value: 'jyoung', valueKind: 'bare' })
    expect(ok('name.FamilyName eq Employee')).toMatchObject({ value: 'Employee' })
    expect(ok("x eq O'Malley")).toMatchObject({ value: "O'Malley" })
    expect(ok('x eq true1')).toMatchObject({ value: 'true1', valueKind: 'bare' })
  })
  test('FLT-061 single-quoted strings', () => {
    expect(ok("displayName sw 'Group'")).toMatchObject({ value: 'Group', valueKind: 'string' })
    expect(ok("x eq 'it\\'s \"q\"'")).toMatchObject({ value: 'it\'s "q"' })
    expect(ok("x eq 'a b' and y pr")).toMatchObject({ type: 'and' })
  })
})

describe('FLT-010 attribute path capture', () => {
  test('URN paths split at the last colon', () => {
    expect(ok('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr')).toEqual({
      type: 'present',
      path: {
        text: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
        uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
        name: 'manager',
        sub: 'value',
      },
    })
  })
  test('$ in names (RFC 7643 §2.1)', () => {
    expect(ok('members.$ref pr')).toMatchObject({ path: { name: 'members', sub: '$ref' } })
  })
})
