/** Evaluation semantics beyond the matrix (FLT-020..036). */
import { compileFilter, parseFilter } from '../../src/filter'
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA, users, view } from './fixtures'
import { createRegistry } from '../../src/schema/registry'
import { defineAttribute } from '../../src/schema/types'

const match = (f: string, attrs: Record<string, unknown>): boolean =>
  compileFilter(parseFilter(f, users))(view('X', 'User', attrs))

describe('FLT-020/021 string comparison', () => {
  test('caseExact false folds case (NFC + lower)', () => {
    expect(match('displayName eq "\u00c9COLE"', { displayName: '\u00e9cole' })).toBe(true)
    // NFD input matches NFC operand
    expect(match('displayName eq "\u00e9cole"', { displayName: 'e\u0301cole' })).toBe(true)
  })
  test('caseExact true is exact', () => {
    expect(match('externalId eq "ABC"', { externalId: 'abc' })).toBe(false)
    expect(match('externalId eq "abc"', { externalId: 'abc' })).toBe(true)
    expect(match('id eq "X"', {})).toBe(true)
    expect(match('id eq "x"', {})).toBe(false)
  })
  test('FLT-021 userName case folding', () => {
    expect(match('userName eq "STRASSE"', { userName: 'stra\u00dfe' })).toBe(true)
  })
  test('co/sw/ew and ordering are case-folded; sw/ew satisfied by identical strings', () => {
    expect(match('title co "GUI"', { title: 'Tour Guide' })).toBe(true)
    expect(match('title sw "tour guide"', { title: 'Tour Guide' })).toBe(true)
    expect(match('title ew "tour guide"', { title: 'Tour Guide' })).toBe(true)
    expect(match('title gt "TOUR"', { title: 'tour guide' })).toBe(true)
    expect(match('title lt "b"', { title: 'Apple' })).toBe(true)
  })
})

describe('FLT-026/027 multi-valued and unassigned', () => {
  const emails = [
    { value: 'a@x.com', type: 'work' },
    { value: 'b@y.com', type: 'home' },
  ]
  test('FLT-026 any value matches, ne included', () => {
    expect(match('emails.type ne "work"', { emails })).toBe(true)
    expect(match('emails.type ne "work"', { emails: [{ type: 'work' }] })).toBe(false)
    expect(match('emails.value ew "y.com"', { emails })).toBe(true)
  })
  test('FLT-027 unassigned never matches, ne included', () => {
    for (const attrs of [{}, { title: null }]) {
      expect(match('title ne "x"', attrs)).toBe(false)
      expect(match('title eq "x"', attrs)).toBe(false)
      expect(match('title gt "a"', attrs)).toBe(false)
      expect(match('not (title eq "x")', attrs)).toBe(true)
    }
    expect(match('emails.type ne "work"', { emails: [] })).toBe(false)
    expect(match('emails.type ne "work"', { emails: [{ value: 'no-type' }] })).toBe(false)
  })
})

describe('FLT-028 pr', () => {
  test.each([
    [null, false],
    ['', false],
    [[], false],
    [{}, false],
    [{ givenName: null, familyName: '' }, false],
    [false, true],
    [0, true],
    ['x', true],
  ])('%j → %s', (value, expected) => {
    const attr = typeof value === 'object' && value !== null && !Array.isArray(value) ? 'name' : typeof value === 'boolean' ? 'active' : 'title'
    expect(match(`${attr} pr`, { [attr]: value })).toBe(expected)
  })
  test('arrays of unassigned elements are not present', () => {
    expect(match('emails pr', { emails: [{}] })).toBe(false)
    expect(match('emails pr', { emails: [{ value: 'x' }] })).toBe(true)
  })
  test('extension attributes', () => {
    expect(match('employeeNumber pr', { [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '1' } })).toBe(true)
    expect(match('employeeNumber pr', { [ENTERPRISE_USER_SCHEMA]: {} })).toBe(false)
    expect(match('manager pr', { [ENTERPRISE_USER_SCHEMA]: { manager: { value: 'm' } } })).toBe(true)
  })
})

describe('FLT-031 valuePath same element', () => {
  test('single-valued complex as a one-element list', () => {
    expect(match('name[givenName eq "a" and familyName eq "b"]', { name: { givenName: 'A', familyName: 'B' } })).toBe(true)
    expect(match('name[givenName eq "a" and familyName eq "c"]', { name: { givenName: 'A', familyName: 'B' } })).toBe(false)
  })
  test('FLT-029 inside brackets', () => {
    expect(match('emails[display eq null]', { emails: [{ value: 'x' }] })).toBe(true)
    expect(match('emails[display ne null]', { emails: [{ value: 'x' }] })).toBe(false)
  })
  test('FLT-025 roles[primary eq "True"] (Entra)', () => {
    expect(match('roles[primary eq "True"]', { roles: [{ value: 'r', primary: true }] })).toBe(true)
    expect(match('roles[primary eq "True"]', { roles: [{ value: 'r', primary: false }] })).toBe(false)
  })
  test('FLT-060 the COMPAT form requires the same element', () => {
    const emails = [
      { value: 'x@example.com', type: 'home' },
      { value: 'y@example.com', type: 'work' },
    ]
    expect(match('emails[type eq "work"].value eq "x@example.com"', { emails })).toBe(false)
    expect(match('emails[type eq "work"].value eq "y@example.com"', { emails })).toBe(true)
  })
})

describe('FLT-023 dateTime instants', () => {
  const at = (iso: string): Record<string, unknown> => ({ meta: { resourceType: 'User', created: iso, lastModified: iso, version: 'v' } })
  test('equal instants in different zones', () => {
    expect(match('meta.created eq "2011-05-12T21:42:34-07:00"', at('2011-05-13T04:42:34Z'))).toBe(true)
    expect(match('meta.created eq "2011-05-13T04:42:34.000Z"', at('2011-05-13T04:42:34Z'))).toBe(true)
  })
  test('7 fractional digits are ordered beyond milliseconds', () => {
    expect(match('meta.created gt "2015-10-10T14:38:21.8617979Z"', at('2015-10-10T14:38:21.8617980Z'))).toBe(true)
    expect(match('meta.created lt "2015-10-10T14:38:21.8617979Z"', at('2015-10-10T14:38:21.8617980Z'))).toBe(false)
  })
  test('Date objects in the view', () => {
    expect(match('meta.created ge "2020-01-01T00:00:00Z"', { meta: { created: new Date('2021-01-01T00:00:00Z') } })).toBe(true)
  })
})

describe('FLT-024 numbers and FLT-036 schemas', () => {
  test('integer attributes compare numerically, digit strings coerced', () => {
    const schema = {
      id: 'urn:example:Thing',
      name: 'Thing',
      description: '',
      attributes: [defineAttribute({ name: 'size', type: 'integer' }), defineAttribute({ name: 'ratio', type: 'decimal' })],
    }
    const rt = createRegistry([schema], [{ name: 'Thing', endpoint: '/Things', description: '', schema: schema.id, schemaExtensions: [] }]).bySegment('Things')!
    const m = (f: string, attrs: Record<string, unknown>): boolean => compileFilter(parseFilter(f, rt))({ id: 't', ...attrs })
    expect(m('size gt 9', { size: 10 })).toBe(true)
    expect(m('size gt "9"', { size: 10 })).toBe(true)
    expect(m('size lt 9', { size: 10 })).toBe(false)
    expect(m('ratio le 1.5e0', { ratio: 1.5 })).toBe(true)
    expect(() => parseFilter('size co 1', rt)).toThrow(expect.objectContaining({ scimType: 'invalidFilter' }))
    expect(() => parseFilter('size eq "ten"', rt)).toThrow(expect.objectContaining({ scimType: 'invalidFilter' }))
  })
  test('FLT-036 schemas eq is case-insensitive any-match', () => {
    expect(match(`schemas eq "${USER_SCHEMA.toUpperCase()}"`, {})).toBe(true)
    expect(match(`schemas eq "${ENTERPRISE_USER_SCHEMA}"`, {})).toBe(false)
  })
})

describe('robustness', () => {
  test('oddly typed stored values do not match and do not throw', () => {
    expect(match('title eq "x"', { title: { nested: 'x' } })).toBe(false)
    expect(match('active eq true', { active: 'yes' })).toBe(false)
    expect(match('emails.value eq "x"', { emails: 'not-an-array' })).toBe(false)
    expect(match('emails[type eq "work"]', { emails: ['work'] })).toBe(false)
  })
  test('prototype keys are never read', () => {
    expect(match('title pr', Object.create({ title: 'inherited' }) as Record<string, unknown>)).toBe(false)
  })
})
