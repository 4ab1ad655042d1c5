/** Sorting, RFC 7644 §3.4.2.3 (LST-030..034) and the default order (LST-031). */
import { compareDefault, compareForSort, type ScimResourceView } from '../../src/filter'
import { ENTERPRISE_USER_SCHEMA, U1, U2, U3, U4, users } from './fixtures'

const names = (list: ScimResourceView[]): string[] =>
  list.map((v) => ({ [String(U1.id)]: 'U1', [String(U2.id)]: 'U2', [String(U3.id)]: 'U3', [String(U4.id)]: 'U4' })[String(v.id)] ?? '?')
const attr = (uri: string | undefined, name: string, sub?: string) => users.resolve(uri, name, sub)!
const sorted = (a: ReturnType<typeof attr>, order: 'ascending' | 'descending', list = [U1, U2, U3]): string[] =>
  names([...list].sort(compareForSort(a, order)))

describe('LST-030 sortBy/sortOrder', () => {
  test('userName ascending, case-insensitive', () => expect(sorted(attr(undefined, 'userName'), 'ascending')).toEqual(['U1', 'U2', 'U3']))
  test('userName descending', () => expect(sorted(attr(undefined, 'userName'), 'descending')).toEqual(['U3', 'U2', 'U1']))
  test('title ascending: no data last, ties by meta.created (LST-031)', () =>
    expect(sorted(attr(undefined, 'title'), 'ascending')).toEqual(['U1', 'U2', 'U3']))
  test('title descending: no data first, ties still ascending by created', () =>
    expect(sorted(attr(undefined, 'title'), 'descending')).toEqual(['U2', 'U3', 'U1']))
  test('emails.value: primary else first; empty last', () => {
    // U1 primary bjensen@…, U2 jsmith@…, U3 [], U4 first a@other.com
    expect(sorted(attr(undefined, 'emails', 'value'), 'ascending', [U1, U2, U3, U4])).toEqual(['U4', 'U1', 'U2', 'U3'])
  })
  test('name.familyName', () => expect(sorted(attr(undefined, 'name', 'familyName'), 'ascending')).toEqual(['U1', 'U3', 'U2']))
  test('extension employeeNumber: U1 then no data', () =>
    expect(sorted(attr(ENTERPRISE_USER_SCHEMA, 'employeeNumber'), 'ascending')).toEqual(['U1', 'U2', 'U3']))
  test('LST-034 booleans false before true', () => expect(sorted(attr(undefined, 'active'), 'ascending', [U1, U2])).toEqual(['U2', 'U1']))
  test('dateTime chronological', () =>
    expect(sorted(attr(undefined, 'meta', 'created'), 'descending', [U1, U2, U3, U4])).toEqual(['U4', 'U3', 'U1', 'U2']))
})

describe('LST-031 default order', () => {
  test('meta.created, then id', () => {
    expect(names([U4, U3, U1, U2].sort(compareDefault))).toEqual(['U2', 'U1', 'U3', 'U4'])
    const a = { id: 'b', meta: { created: '2020-01-01T00:00:00Z' } }
    const b = { id: 'a', meta: { created: '2020-01-01T00:00:00Z' } }
    expect([a, b].sort(compareDefault).map((v) => v.id)).toEqual(['a', 'b'])
  })
  test('code-point order for caseExact strings', () => {
    const x = { id: '1', externalId: 'b', meta: { created: '2020-01-01T00:00:00Z' } }
    const y = { id: '2', externalId: 'B', meta: { created: '2020-01-01T00:00:00Z' } }
    expect([x, y].sort(compareForSort(attr(undefined, 'externalId'), 'ascending')).map((v) => v.externalId)).toEqual(['B', 'b'])
  })
})
