/**
 * The hand-written parser (src/filter/fast-parse.ts) against the generated Peggy parser, the
 * source of truth (FLT-001..009, FLT-060/061; RFC 7644 §3.4.2.2, §3.5.2): on generated filters
 * and PATCH paths of every shape — and/or chains, not, parentheses, valuePath brackets, the
 * `[...].sub op value` form, every value kind and escape — and on mutations of them (characters
 * inserted, deleted, duplicated), the hand-written parser accepts exactly the inputs the generated
 * parser accepts, with an identical tree; it declines every input nested past maxDepth; and
 * whatever it declines, the facade reports with the generated parser's own message and column.
 */
import fc from 'fast-check'
import { fastParseFilter, fastParsePath } from '../../src/filter/fast-parse'
import { parseFilterSyntaxUncached, parsePathSyntax } from '../../src/filter/parse'
import { parse as grammarParse, SyntaxError as GrammarSyntaxError } from '../../src/filter/generated/parser'

// ------------------------------------------------------------------------------ generators

const ws0 = fc.constantFrom('', '', ' ', '\t', '  ')
const ws1 = fc.constantFrom(' ', ' ', '\t', ' \t', '  ')
const name = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z$][A-Za-z0-9_$-]{0,5}$/) },
  { weight: 1, arbitrary: fc.constantFrom('not', 'NOT', 'and', 'or', 'pr', 'eq', 'true', 'null', 'notx', 'prx') },
)
const uri = fc.constantFrom('', '', '', 'urn:ietf:params:scim:schemas:core:2.0:User:', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:', 'urn:x:y.z-1:', 'a:', ':')
const sub = fc.option(name.map((n) => `.${n}`), { nil: '' })
const attrPath = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(uri, name, sub).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('a.b.c', 'a.', 'a:', 'a..b', 'a:b:c.d', '1a', '$ref', 'a-b_c$') },
)
const valAttrPath = fc.oneof({ weight: 6, arbitrary: fc.tuple(name, sub).map((p) => p.join('')) }, { weight: 1, arbitrary: attrPath })
const op = fc.constantFrom('eq', 'EQ', 'Eq', 'ne', 'co', 'sw', 'ew', 'gt', 'GE', 'lt', 'le', 'pr', 'PR', 'regex', 'e q', 'eqx')
const piece = fc.oneof(
  fc.string({ maxLength: 3 }),
  fc.constantFrom('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u00e9', '\\ud83d\\ude00', '\\ud800', '\\x', '\\u12', "\\'", '"', "'", '\u0001', ']', ')'),
)
const dq = fc.array(piece, { maxLength: 4 }).map((ps) => `"${ps.join('')}"`)
const sq = fc.array(piece, { maxLength: 4 }).map((ps) => `'${ps.join('')}'`)
const value = fc.oneof(
  { weight: 4, arbitrary: dq },
  { weight: 1, arbitrary: sq },
  { weight: 1, arbitrary: fc.constantFrom('0', '-0', '12', '-1.5e+3', '1E-2', '01', '1.', '-', '1e', '1.5x', '0.25', '2015-10-10T14:38:21.8617979-07:00') },
  { weight: 1, arbitrary: fc.constantFrom('true', 'TRUE', 'False', 'null', 'NULL', 'nullx', 'truex', 'bare-word', "it's", 'a,b', 'and', 'or', 'User', '\u00e9t\u00e9') },
)
const tail = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('pr', 'PR', 'pr ') },
  { weight: 4, arbitrary: fc.tuple(op, ws1, value).map((p) => p.join('')) },
)
const leaf = fc.tuple(attrPath, ws1, tail).map((p) => p.join(''))
const valLeaf = fc.tuple(valAttrPath, ws1, tail).map((p) => p.join(''))
const and = fc.constantFrom('and', 'AND', 'And')
const or = fc.constantFrom('or', 'OR', 'oR')

/** Filters in brackets (valFilter) and outside (FILTER), recursively. */
const { valFilter, filter } = fc.letrec((tie) => ({
  valFilter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: valLeaf },
    { weight: 1, arbitrary: fc.tuple(tie('valFilter'), ws1, fc.oneof(and, or), ws1, tie('valFilter')).map((p) => p.join('')) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('(', 'not (', 'not(', 'NOT  ('), ws0, tie('valFilter'), ws0).map((p) => `${p.join('')})`) },
  ),
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: leaf },
    {
      weight: 2,
      arbitrary: fc
        .tuple(attrPath, ws0, tie('valFilter'), ws0, fc.option(fc.tuple(name, ws1, tail).map(([n, w, t]) => `.${n}${w}${t}`), { nil: '' }))
        .map(([a, w, f, w2, s]) => `${a}[${w}${f}${w2}]${s}`),
    },
    { weight: 2, arbitrary: fc.tuple(tie('filter'), ws1, fc.oneof(and, or), ws1, tie('filter')).map((p) => p.join('')) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('(', 'not (', 'not(', 'Not ('), ws0, tie('filter'), ws0).map((p) => `${p.join('')})`) },
  ),
}))

/** 0–2 edits: a significant character inserted, a character deleted, or a slice duplicated. */
const SIGNIFICANT = [' ', '\t', '(', ')', '[', ']', '"', "'", '\\', '.', ':', 'a', '1', '-', '\n', '\r', '\u0000', '\u00e9']
function mutated(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...SIGNIFICANT), fc.nat({ max: 6 }))
  return fc.tuple(text, fc.array(edit, { maxLength: 2 })).map(([t, edits]) => {
    let s = t
    for (const [at, kind, ch, n] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + 1)
      if (kind === 0) s = s.slice(0, i) + ch + s.slice(i)
      else if (kind === 1) s = s.slice(0, i) + s.slice(i + 1)
      else s = s.slice(0, i) + s.slice(i, i + n) + s.slice(i)
    }
    return s
  })
}

const filterText = fc.tuple(ws0, filter, ws0).map((p) => p.join(''))
const pathText = fc
  .tuple(ws0, attrPath, fc.option(fc.tuple(ws0, valFilter, ws0, fc.option(name.map((n) => `.${n}`), { nil: '' })), { nil: undefined }), ws0)
  .map(([w, a, b, w2]) => (b === undefined ? `${w}${a}${w2}` : `${w}${a}[${b[0]}${b[1]}${b[2]}]${b[3]}${w2}`))

// ------------------------------------------------------------------------------ oracle

type Outcome = { ok: true; tree: unknown } | { ok: false; err: unknown }

class TooDeep extends Error {}

/** The generated parser with the options the facade passes (maxDepth and a throwing tooDeep). */
function grammar(text: string, startRule: 'Filter' | 'Path', maxDepth: number): Outcome {
  try {
    return {
      ok: true,
      tree: grammarParse(text, {
        startRule,
        maxDepth,
        tooDeep: () => {
          throw new TooDeep()
        },
      }),
    }
  } catch (err) {
    return { ok: false, err }
  }
}

function facade(f: () => unknown): Outcome {
  try {
    return { ok: true, tree: f() }
  } catch (err) {
    return { ok: false, err }
  }
}

/** What the facade reports for a generated-parser failure: its message and column, or the depth limit. */
function expectSameError(actual: Outcome, expected: Outcome & { ok: false }): void {
  expect(actual.ok).toBe(false)
  const message = (actual as { err: Error }).err.message
  if (expected.err instanceof TooDeep) expect(message).toMatch(/\(maxDepth\) at column \d+$/)
  else {
    expect(expected.err).toBeInstanceOf(GrammarSyntaxError)
    const e = expected.err as GrammarSyntaxError
    expect(message).toMatch(new RegExp(` at column ${e.location.start.column}: `))
    expect(message.endsWith(`: ${e.message}`)).toBe(true)
  }
}

const depths = fc.constantFrom(32, 32, 1, 2, 3)
const RUNS = 4000

describe('hand-written parser = generated parser (RFC 7644 §3.4.2.2, §3.5.2)', () => {
  it('FLT-001: filters — accepted exactly when the grammar accepts, with an identical tree', () => {
    let accepted = 0
    let declined = 0
    fc.assert(
      fc.property(fc.oneof(filterText, mutated(filterText)), depths, (text, maxDepth) => {
        const expected = grammar(text, 'Filter', maxDepth)
        const fast = fastParseFilter(text, maxDepth)
        if (expected.ok) {
          accepted++
          expect(fast).toStrictEqual(expected.tree)
        } else {
          declined++
          expect(fast).toBeUndefined()
        }
      }),
      { numRuns: RUNS },
    )
    // Both sides of the property are reached often.
    expect(accepted).toBeGreaterThan(RUNS / 5)
    expect(declined).toBeGreaterThan(RUNS / 5)
  })

  it('FLT-001, FLT-008: the facade reports what the fast parser declines with the grammar’s message and column', () => {
    fc.assert(
      fc.property(mutated(filterText), depths, (text, maxDepth) => {
        if (/^[ \t\r\n]*$/.test(text)) return
        const expected = grammar(text, 'Filter', maxDepth)
        const actual = facade(() => parseFilterSyntaxUncached(text, { maxDepth, maxTerms: 1000 }))
        if (expected.ok) {
          // Only the literal check (U+0000, lone surrogates; invalidValue) rejects a parsed filter.
          if (!actual.ok) expect(actual.err).toMatchObject({ code: 'ERR_SCIM_INVALID_VALUE' })
          else expect(actual.tree).toStrictEqual(expected.tree)
        } else expectSameError(actual, expected)
      }),
      { numRuns: RUNS / 2 },
    )
  })

  it('FLT-001: PATCH paths — accepted exactly when the grammar accepts, with an identical tree; errors are the grammar’s', () => {
    let accepted = 0
    fc.assert(
      fc.property(fc.oneof(pathText, mutated(pathText)), depths, (text, maxDepth) => {
        const expected = grammar(text, 'Path', maxDepth)
        const fast = fastParsePath(text, maxDepth)
        if (expected.ok) {
          accepted++
          expect(fast).toStrictEqual(expected.tree)
        } else {
          expect(fast).toBeUndefined()
          if (!/^[ \t\r\n]*$/.test(text)) expectSameError(facade(() => parsePathSyntax(text, { maxDepth, maxTerms: 1000 })), expected)
        }
      }),
      { numRuns: RUNS },
    )
    expect(accepted).toBeGreaterThan(RUNS / 5)
  })

  it.each([
    ['the Entra form', 'emails[type eq "work"].value eq "x"'],
    ['nested groups splice into one n-ary node', '(a pr and (b pr and c pr)) and d pr'],
    ['or inside and stays nested', '(a pr or b pr) and c pr'],
    ['not before a group, with and without a space', 'not(a pr) or NOT (b pr)'],
    ['an attribute named not', 'not eq 1'],
    ['a bad single-quoted value is a bare word', "a eq 'x\\q'"],
    ['a number with a tail is a bare word', 'a eq 1.5x'],
    ['-0', 'a eq -0'],
    ['escapes', 'a eq "\\ud83d\\ude00 \\" \\\\ \\/ \\b\\f\\n\\r\\t" and b eq \'it\\\'s\''],
    ['URN paths', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"'],
  ])('%s: %s', (_, text) => {
    const expected = grammar(text, 'Filter', 32)
    expect(expected.ok).toBe(true)
    expect(fastParseFilter(text, 32)).toStrictEqual((expected as { tree: unknown }).tree)
  })

  it('FLT-008: declines at the first level past maxDepth, which the grammar reports', () => {
    const text = `${'('.repeat(4)}a pr${')'.repeat(4)}`
    expect(fastParseFilter(text, 4)).toBeDefined()
    expect(fastParseFilter(text, 3)).toBeUndefined()
    expect(() => parseFilterSyntaxUncached(text, { maxDepth: 3 })).toThrow(/maxDepth\) at column 4$/)
    expect(fastParsePath('emails[(a pr)]', 1)).toBeUndefined()
  })
})
