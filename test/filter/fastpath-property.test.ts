/**
 * The hand-written parser (src/filter/fast-parse.ts) and the parse cache against the grammar
 * (FLT-001, FLT-004, FLT-062; RFC 7644 §3.4.2.2) on the `attr eq "string"` shape IdPs send most:
 * for every generated input near it, the result of `parseFilterSyntax` (hand-written parser,
 * cache) is the tree the generated Peggy parser builds, or both reject it. Compound filters and
 * paths: fastpath-compound.test.ts.
 */
import fc from 'fast-check'
import { parseFilterSyntax } from '../../src/filter'
import { clearFilterCaches, parseFilter, parseFilterSyntaxUncached } from '../../src/filter/parse'
import { parse as grammarParse } from '../../src/filter/generated/parser'
import { users } from './fixtures'

const ws = fc.constantFrom('', ' ', '  ', '\t', ' \t')
const ws1 = fc.constantFrom(' ', '  ', '\t', ' \t ')
const name = fc.stringMatching(/^[A-Za-z$][A-Za-z0-9_$-]{0,8}$/)
const uri = fc.constantFrom(
  'urn:ietf:params:scim:schemas:core:2.0:User',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  'urn:x:y.z-1',
  '',
)
const path = fc
  .tuple(uri, name, fc.option(name, { nil: undefined }))
  .map(([u, n, sub]) => `${u ? `${u}:` : ''}${n}${sub === undefined ? '' : `.${sub}`}`)
const op = fc.constantFrom('eq', 'EQ', 'Eq', 'eQ', 'ne', 'sw', 'e q')
const piece = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u00e9', '\\ud83d\\ude00', '\\x', '\\u12', '"', '\u0001', '\\ud800'),
)
const literal = fc.array(piece, { maxLength: 6 }).map((ps) => `"${ps.join('')}"`)
const value = fc.oneof({ weight: 4, arbitrary: literal }, { weight: 1, arbitrary: fc.constantFrom('true', 'null', '12', '"open') })
const filterText = fc
  .tuple(ws, path, ws1, op, ws1, value, ws, fc.constantFrom('', '', '', ' and x pr', ')', '.'))
  .map((parts) => parts.join(''))

type Outcome = { ok: true; tree: unknown } | { ok: false; code: unknown }
function outcome(f: () => unknown): Outcome {
  try {
    return { ok: true, tree: f() }
  } catch (err) {
    return { ok: false, code: (err as { code?: unknown }).code ?? 'grammar' }
  }
}

describe('hand-written parser and cache agree with the grammar (RFC 7644 §3.4.2.2)', () => {
  it('FLT-001: the same tree as the generated parser for every generated input, or both reject it', () => {
    let accepted = 0
    fc.assert(
      fc.property(filterText, (text) => {
        const grammar = outcome(() => grammarParse(text, { startRule: 'Filter' }))
        const fast = outcome(() => parseFilterSyntaxUncached(text))
        const cached = outcome(() => parseFilterSyntax(text))
        const again = outcome(() => parseFilterSyntax(text))
        expect(fast.ok).toBe(cached.ok)
        expect(again).toEqual(cached)
        if (fast.ok && cached.ok) {
          accepted++
          expect(fast.tree).toEqual(cached.tree)
          // The grammar accepts it too, with the same tree (a U+0000/surrogate literal is the
          // one thing the wrapper rejects after a successful grammar parse).
          expect(grammar).toEqual({ ok: true, tree: fast.tree })
        } else if (grammar.ok) {
          expect(fast).toEqual({ ok: false, code: 'ERR_SCIM_INVALID_VALUE' })
        }
      }),
      { numRuns: 3000 },
    )
    // The generator reaches the accepting side, not only rejections.
    expect(accepted).toBeGreaterThan(300)
  })
})

describe('parse cache', () => {
  beforeEach(() => clearFilterCaches())

  it('returns one frozen tree per text; a caller cannot change what the next request gets', () => {
    const a = parseFilterSyntax('title eq "x" and active eq true')
    expect(parseFilterSyntax('title eq "x" and active eq true')).toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
    expect(() => {
      ;(a as { type: string }).type = 'or'
    }).toThrow(TypeError)
    expect(parseFilterSyntax('title eq "x" and active eq true').type).toBe('and')
  })

  it('keys on the limits: a cached tree is not returned past a lower maxTerms or maxDepth', () => {
    parseFilterSyntax('((a pr)) or b pr or c pr')
    expect(() => parseFilterSyntax('((a pr)) or b pr or c pr', { maxTerms: 2 })).toThrow(/maxTerms/)
    expect(() => parseFilterSyntax('((a pr)) or b pr or c pr', { maxDepth: 1 })).toThrow(/maxDepth/)
    expect(() => parseFilterSyntax('((a pr)) or b pr or c pr', { maxLength: 5 })).toThrow(/maxLength/)
  })

  it('resolved trees are cached per resource type and keep the AttributeInfo of the registry', () => {
    const f = parseFilter('emails[type eq "work"]', users)
    expect(parseFilter('emails[type eq "work"]', users)).toBe(f)
    expect(f.type === 'valuePath' && f.attribute).toBe(users.core.get('emails'))
  })

  it('stays bounded: after 600 distinct texts the first one is parsed again (a new tree)', () => {
    const first = parseFilterSyntax('userName eq "0"')
    for (let i = 1; i <= 600; i++) parseFilterSyntax(`userName eq "${i}"`)
    const again = parseFilterSyntax('userName eq "0"')
    expect(again).not.toBe(first)
    expect(again).toEqual(first)
  })

  it('does not cache failures: a bad filter is an error every time', () => {
    for (let i = 0; i < 2; i++) expect(() => parseFilter('nope eq "x"', users)).toThrow(expect.objectContaining({ code: 'ERR_SCIM_INVALID_FILTER' }))
  })
})
