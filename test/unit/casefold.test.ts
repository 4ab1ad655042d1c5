/**
 * foldCase (issue 11 item 8): NFC, then Unicode full case folding (CaseFolding.txt statuses C and
 * F), then NFC; the comparison key of RFC 7643 §2.1 (caseExact false) and RFC 7644 §5 (userName,
 * RFC 8265 §3.3 UsernameCaseMapped). RES-021, FLT-020, FLT-021.
 */
import { foldCase } from '../../src'
import { FULL, SIMPLE_RUNS, UNICODE_VERSION } from '../../src/schema/casefold-table'

/** Every (code point, folding) of the generated table. */
function entries(): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < SIMPLE_RUNS.length; i += 4) {
    const [first, count, step, delta] = SIMPLE_RUNS.slice(i, i + 4) as [number, number, number, number]
    for (let k = 0; k < count; k++) out.push([String.fromCodePoint(first + k * step), String.fromCodePoint(first + k * step + delta)])
  }
  for (const [cp, to] of FULL) out.push([String.fromCodePoint(cp), to])
  return out
}

describe('foldCase (RFC 7644 §5, RFC 7643 §2.1)', () => {
  it('the table holds the C and F mappings of CaseFolding.txt (1481 + 104 in Unicode 17.0)', () => {
    expect(UNICODE_VERSION).toBe('17.0.0')
    const all = entries()
    expect(all).toHaveLength(1481 + 104)
    expect(new Set(all.map(([k]) => k)).size).toBe(all.length)
  })

  it('is idempotent on every table entry, alone and between other text', () => {
    const bad: string[] = []
    for (const [from] of entries()) {
      for (const s of [from, `a${from}b`, `${from}\u0301`, `${from}${from}`]) {
        const once = foldCase(s)
        if (foldCase(once) !== once) bad.push(s)
      }
    }
    expect(bad).toEqual([])
  })

  it('maps each entry to its folding, up to NFC', () => {
    const bad = entries().filter(([from, to]) => foldCase(from) !== to.normalize('NFC'))
    expect(bad).toEqual([])
  })

  it.each([
    ['x.straße', 'x.strasse'],
    ['x.STRAẞE', 'x.strasse'], // U+1E9E: status F → ss
    ['X.STRASSE', 'x.strasse'],
    ['x.admın', 'x.admın'], // dotless ı has no folding: it stays distinct from i
    ['İstanbul', 'i\u0307stanbul'], // U+0130: status F
    ['\u212a', 'k'], // Kelvin sign
    ['o\ufb03ce', 'office'], // ligature ﬃ
    ['ΣΊΣΥΦΟΣ', 'σίσυφοσ'], // final sigma folds to σ
    ['\u13a0', '\u13a0'], // Cherokee capitals are the folded form
    ['\uab70', '\u13a0'], // Cherokee small letter folds to the capital
    ['Zoe\u0308', 'zo\u00eb'], // NFC first
    ['ABC-xyz_09', 'abc-xyz_09'], // ASCII
    ['', ''],
  ])('foldCase(%j) === %j', (input, expected) => {
    expect(foldCase(input)).toBe(expected)
  })

  it('agrees with toLowerCase on ASCII (the fast path) for every ASCII code point', () => {
    let s = ''
    for (let i = 0; i < 128; i++) s += String.fromCharCode(i)
    expect(foldCase(s)).toBe(s.toLowerCase())
    expect(foldCase(s + '\u00e9')).toBe(s.toLowerCase() + '\u00e9')
  })
})
