/** FLT-008 resource limits and FLT-009: rejected quickly, never a stack overflow. */
import { parseFilter, parseFilterSyntax, parsePath, DEFAULT_FILTER_LIMITS } from '../../src/filter'
import { users } from './fixtures'

function expectInvalidFilter(fn: () => unknown, detail: RegExp): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toMatchObject({ status: 400, scimType: 'invalidFilter' })
  expect((err as Error).message).toMatch(detail)
}

const orChain = (n: number): string => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(' or ')

describe('FLT-008 limits', () => {
  test('defaults', () => {
    expect(DEFAULT_FILTER_LIMITS).toEqual({ maxLength: 4096, maxDepth: 32, maxTerms: 200 })
  })

  test('FLT-008 a 5000-character filter is rejected naming maxLength', () => {
    const f = `userName eq "${'x'.repeat(5000)}"`
    expectInvalidFilter(() => parseFilter(f, users), /4096.*maxLength/)
  })

  test('FLT-008 length is configurable', () => {
    const f = `userName eq "${'x'.repeat(5000)}"`
    expect(parseFilter(f, users, { maxLength: 10000 })).toMatchObject({ type: 'compare' })
    expectInvalidFilter(() => parseFilter('userName eq "abc"', users, { maxLength: 5 }), /maxLength/)
  })

  test('FLT-008 100-deep parentheses are rejected naming maxDepth', () => {
    const f = '('.repeat(100) + 'userName pr' + ')'.repeat(100)
    expectInvalidFilter(() => parseFilter(f, users), /32.*maxDepth/)
  })

  test('FLT-008 32-deep parentheses are accepted', () => {
    const f = '('.repeat(32) + 'userName pr' + ')'.repeat(32)
    expect(parseFilter(f, users)).toMatchObject({ type: 'present' })
    const n = 'not ('.repeat(32) + 'userName pr' + ')'.repeat(32)
    expect(parseFilter(n, users)).toMatchObject({ type: 'not' })
  })

  test('FLT-008 brackets count towards depth; parentheses inside strings do not', () => {
    expectInvalidFilter(() => parseFilter('(emails[type eq "w"])', users, { maxDepth: 1 }), /maxDepth/)
    expect(parseFilter('userName eq "((((((((((((((((("', users, { maxDepth: 1 })).toMatchObject({ type: 'compare' })
    expect(parseFilter("userName eq ')))(((((((((((((('", users, { maxDepth: 1 })).toMatchObject({ type: 'compare' })
  })

  test('FLT-008 a 10,000-term or chain is rejected quickly (default limits)', () => {
    const f = orChain(10_000)
    const t0 = Date.now()
    expectInvalidFilter(() => parseFilter(f, users), /maxLength/)
    expect(Date.now() - t0).toBeLessThan(1000)
  })

  test('FLT-008 a 10,000-term or chain hits maxTerms without a stack overflow when length is unlimited', () => {
    const f = orChain(10_000)
    const t0 = Date.now()
    expectInvalidFilter(() => parseFilter(f, users, { maxLength: Infinity }), /200.*maxTerms/)
    expect(Date.now() - t0).toBeLessThan(3000)
  })

  test('FLT-008 long chains parse into a flat list when allowed', () => {
    const t = parseFilterSyntax(orChain(10_000), { maxLength: Infinity, maxTerms: Infinity })
    expect(t.type === 'or' && t.filters.length).toBe(10_000)
  })

  test('FLT-008 200 terms are accepted, 201 are not', () => {
    const chain = (n: number): string => Array.from({ length: n }, () => 'title pr').join(' or ')
    expect(parseFilter(chain(200), users)).toMatchObject({ type: 'or' })
    expectInvalidFilter(() => parseFilter(chain(201), users), /maxTerms/)
  })

  test('FLT-008 very deep nesting with limits lifted fails as invalidFilter, not a crash', () => {
    const f = '('.repeat(20000) + 'userName pr' + ')'.repeat(20000)
    expectInvalidFilter(() => parseFilter(f, users, { maxLength: Infinity, maxDepth: Infinity }), /nested/)
  })

  test('FLT-008 limits apply to PATCH path filters', () => {
    expectInvalidFilter(() => parsePath(`emails[${'('.repeat(40)}type pr${')'.repeat(40)}]`, users), /maxDepth/)
  })
})

describe('FLT-009 empty filter', () => {
  test.each(['', ' ', '\t\t', '  \t  '])('%j is invalidFilter', (f) => {
    expectInvalidFilter(() => parseFilter(f, users), /at least one/)
  })
})
