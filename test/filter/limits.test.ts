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

  // A hang would exceed jest's timeout; the work itself is bounded by the limits (no clock here).
  test('FLT-008 a 10,000-term or chain is rejected by maxLength (default limits)', () => {
    expectInvalidFilter(() => parseFilter(orChain(10_000), users), /maxLength/)
  })

  test('FLT-008 a 10,000-term or chain hits maxTerms without a stack overflow when length is unlimited', () => {
    expectInvalidFilter(() => parseFilter(orChain(10_000), users, { maxLength: Infinity }), /200.*maxTerms/)
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

/**
 * FLT-008 (RFC 7644 §3.4.2.2 grammar): depth is counted where the parser nests, so text that a
 * separate scan would read differently from the grammar cannot hide nesting. Here `'x<TAB>or…'`
 * looks like one single-quoted string, but a single-quoted string cannot hold a TAB: the grammar
 * reads the bare word `'x`, then `or`, then 2,000 nested groups.
 */
describe('FLT-008 depth counted by the parser (issue 11 item 9)', () => {
  const deep = (n: number, sep: string, inner = 'userName eq "y"', head = 'title eq ', tail = 'title eq z') =>
    `${head}'x${sep}or${sep}${'('.repeat(n)}${inner}${')'.repeat(n)}${sep}or${sep}${tail}'`

  test.each([
    ['TAB', '\t'],
    ['TAB and space', '\t \t'],
  ])('a 2,000-deep filter hidden behind a quote and %s is 400 invalidFilter naming maxDepth', (_name, sep) => {
    const f = deep(2000, sep)
    expect(f.length).toBeLessThan(4096)
    expectInvalidFilter(() => parseFilter(f, users), /nested deeper than the limit of 32 levels \(maxDepth\)/)
  })

  test('the parse stops at the first level past the limit: same column for 200 and 2,000 levels (work bounded by the prefix)', () => {
    const column = (n: number): string => {
      try {
        parseFilter(deep(n, '\t'), users)
      } catch (e) {
        return /at column (\d+)/.exec((e as Error).message)?.[1] ?? 'none'
      }
      return 'accepted'
    }
    const at = "title eq 'x\tor\t".length + 32 + 1 // the 33rd "(" (1-based column)
    expect([column(200), column(2000)]).toEqual([String(at), String(at)])
  })

  test('exactly 32 levels behind the same quote parse; the bare word is a value', () => {
    const t = parseFilterSyntax(deep(32, '\t'))
    expect(t).toMatchObject({ type: 'or', filters: [{ type: 'compare', value: "'x" }, { type: 'compare' }, { type: 'compare', value: "z'" }] })
    expectInvalidFilter(() => parseFilterSyntax(deep(33, '\t')), /maxDepth/)
  })

  test('newlines and form feeds (not whitespace in the grammar) are syntax errors: 400 invalidFilter, never accepted', () => {
    for (const sep of ['\n', '\r\n', '\f']) {
      expectInvalidFilter(() => parseFilter(deep(2000, sep), users), /Invalid filter at column/)
    }
  })

  test('with spaces or NBSP the quote really does enclose everything: one string value, no nesting', () => {
    for (const sep of ['  ', '\u00a0']) {
      const t = parseFilterSyntax(deep(2000, sep))
      expect(t).toMatchObject({ type: 'compare', path: { text: 'title' }, op: 'eq', valueKind: 'string' })
    }
  })

  test('not ( ... ) and valuePath brackets count as levels', () => {
    expectInvalidFilter(() => parseFilterSyntax(`title eq 'x\tor\t${'not ('.repeat(33)}title pr${')'.repeat(33)}'`), /maxDepth/)
    expectInvalidFilter(() => parseFilterSyntax(`emails[${'('.repeat(32)}type pr${')'.repeat(32)}]`), /maxDepth/)
    expect(parseFilterSyntax(`emails[${'('.repeat(31)}type pr${')'.repeat(31)}]`)).toMatchObject({ type: 'valuePath' })
  })

  test('PATCH path (RFC 7644 §3.5.2): the same attack inside a valuePath filter is 400 invalidFilter naming maxDepth', () => {
    const p = `emails[type eq 'x\tor\t${'('.repeat(2000)}value eq "y"${')'.repeat(2000)}\tor\ttype eq z']`
    expect(p.length).toBeLessThan(4096)
    expectInvalidFilter(() => parsePath(p, users), /nested deeper than the limit of 32 levels \(maxDepth\)/)
    expect(parsePath(`emails[type eq 'x\tor\t${'('.repeat(31)}value eq "y"${')'.repeat(31)}].value`, users)).toMatchObject({ sub: { def: { name: 'value' } } })
  })

  test('a group that fails to parse gives its level back: many failed groups do not add up', () => {
    // Each `(x eq` group fails inside; the filter is a syntax error, not a depth error.
    const f = Array.from({ length: 40 }, () => '(title pr)').join(' and ') + ' and (title'
    expectInvalidFilter(() => parseFilterSyntax(f, { maxTerms: 1000 }), /Invalid filter at column/)
    expect(parseFilterSyntax(Array.from({ length: 40 }, () => '(title pr)').join(' and '), { maxTerms: 1000 })).toMatchObject({ type: 'and' })
  })
})

describe('FLT-009 empty filter', () => {
  test.each(['', ' ', '\t\t', '  \t  '])('%j is invalidFilter', (f) => {
    expectInvalidFilter(() => parseFilter(f, users), /at least one/)
  })
})
