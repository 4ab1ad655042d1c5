/** Long `or` chains of `eq` on one attribute take a set lookup; the result must equal term-by-term evaluation. */
import { compileFilter, parseFilter, type FilterNode } from '../../src/filter'
import { users, view } from './fixtures'

const PEOPLE = [
  view('U1', 'User', { userName: 'Stra\u00dfe', emails: [{ value: 'A@x.com' }, { value: 'b@x.com' }] }),
  view('U2', 'User', { userName: 'zoe\u0308', emails: [{ value: 'c@x.com' }] }),
  view('U3', 'User', { userName: 'plain', externalId: 'Ext-1' }),
  view('U4', 'User', { userName: 'other' }),
]

/** The same filter, evaluated one term at a time (chains shorter than 4 never take the set path). */
function termByTerm(filter: FilterNode): (v: Record<string, unknown>) => boolean {
  if (filter.type !== 'or') return compileFilter(filter)
  const parts = filter.filters.map((f) => compileFilter(f))
  return (v) => parts.some((p) => p(v))
}

describe('or-chains of eq (set lookup)', () => {
  it.each([
    ['userName, full case folding and NFC (FLT-021)', 'userName eq "STRASSE" or userName eq "Zo\\u00eb" or userName eq "x" or userName eq "y"', ['U1', 'U2']],
    ['multi-valued emails.value, case-insensitive', 'emails.value eq "a@X.com" or emails.value eq "q" or emails.value eq "r" or emails.value eq "c@x.COM"', ['U1', 'U2']],
    ['caseExact externalId', 'externalId eq "ext-1" or externalId eq "Ext-1" or externalId eq "z" or externalId eq "w"', ['U3']],
    ['mixed attributes fall back to term-by-term', 'userName eq "plain" or externalId eq "nope" or userName eq "other" or userName eq "none"', ['U3', 'U4']],
  ])('%s', (_name, text, expected) => {
    const filter = parseFilter(text, users)
    const fast = compileFilter(filter)
    const slow = termByTerm(filter)
    const ids = (f: (v: Record<string, unknown>) => boolean) => PEOPLE.filter((p) => f(p as Record<string, unknown>)).map((p) => p['userName'])
    expect(ids(fast)).toEqual(ids(slow))
    const names: Record<string, string> = { U1: 'Stra\u00dfe', U2: 'zoe\u0308', U3: 'plain', U4: 'other' }
    expect(ids(fast)).toEqual(expected.map((k) => names[k]))
  })
})
