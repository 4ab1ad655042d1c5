/**
 * The SQL fold functions of the example adapter (SQLite `scim_fold`, PostgreSQL `<prefix>fold`)
 * compute exactly `foldCase` (issue 11 item 8; RFC 7643 §2.1, FLT-020): checked on every entry of
 * the case-folding table and on mixed text, so a pushed-down filter finds what the in-memory
 * evaluator finds.
 */
import { foldCase } from '../../src'
import { FULL, SIMPLE_RUNS } from '../../src/schema/casefold-table'
import { databases } from './helpers'

function inputs(): string[] {
  const out: string[] = []
  for (let i = 0; i < SIMPLE_RUNS.length; i += 4) {
    const [first, count, step] = SIMPLE_RUNS.slice(i, i + 3) as [number, number, number]
    for (let k = 0; k < count; k++) out.push(String.fromCodePoint(first + k * step))
  }
  for (const [cp] of FULL) out.push(String.fromCodePoint(cp))
  out.push('Gro\u00dfe Stra\u00dfe', 'x.STRA\u1e9eE', 'x.adm\u0131n', '\u0130stanbul', 'Zoe\u0308', 'o\ufb03ce \u212a', 'ABC xyz', '', 'A\u030a\u01f0\u0323')
  out.push(out.join(' '))
  return out
}

describe.each(databases())('SQL fold function: $name', (db) => {
  it('equals foldCase on every table entry and on mixed text', async () => {
    const { adapter, close } = await db.make()
    try {
      await adapter.init()
      const xs = inputs()
      const got: string[] = []
      const fn = adapter.foldFunction
      if (adapter.driver.dialect === 'postgres') {
        const r = await adapter.driver.query(`SELECT ${fn}(x) AS f FROM unnest($1::text[]) WITH ORDINALITY AS t(x, o) ORDER BY o`, [xs])
        for (const row of r.rows) got.push(row['f'] as string)
      } else {
        for (const x of xs) got.push((await adapter.driver.query(`SELECT ${fn}(?) AS f`, [x])).rows[0]!['f'] as string)
      }
      const bad = xs.map((x, i) => [x, got[i], foldCase(x)]).filter(([, a, b]) => a !== b)
      expect(bad).toEqual([])
    } finally {
      await close()
    }
  })
})
