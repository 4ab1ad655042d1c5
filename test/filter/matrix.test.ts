/** The filter conformance matrix of requirements §4.6 (F01–F64, FG1–FG7), evaluated in memory. */
import { compileFilter, parseFilter } from '../../src/filter'
import type { CompiledResourceType } from '../../src/schema/registry'
import { fill, GROUPS, groups, USERS, users } from './fixtures'

type Row = [id: string, filter: string, expected: string[] | 400, note?: string]

const ALL = ['U1', 'U2', 'U3', 'U4']

const userRows: Row[] = [
  ['F01', 'userName eq "bjensen@example.com"', ['U1'], 'FLT-020'],
  ['F02', 'userName eq "BJENSEN@EXAMPLE.COM"', ['U1'], 'FLT-020 caseExact false'],
  ['F03', 'USERNAME Eq "jsmith@example.com"', ['U2'], 'FLT-002, FLT-011'],
  ['F04', 'userName sw "j"', ['U2']],
  ['F05', 'userName ew "@EXAMPLE.com"', ['U1', 'U2', 'U4']],
  ['F06', 'userName co "MALL"', ['U3']],
  ['F07', 'externalId eq "EXT-BJENSEN"', [], 'externalId caseExact'],
  ['F08', 'externalId eq "ext-bjensen"', ['U1']],
  ['F09', `name.familyName co "O'Malley"`, ['U3']],
  ['F10', 'title pr', ['U1'], 'FLT-028'],
  ['F11', 'title pr and userType eq "Employee"', ['U1']],
  ['F12', 'title pr or userType eq "Intern"', ['U1']],
  ['F13', 'not (title pr)', ['U2', 'U3', 'U4'], 'FLT-006'],
  ['F14', 'title ne "Tour Guide"', [], 'FLT-027'],
  ['F15', 'not (title eq "Tour Guide")', ['U2', 'U3', 'U4'], 'FLT-027'],
  ['F16', 'active eq true', ['U1', 'U3', 'U4']],
  ['F17', 'active eq false', ['U2']],
  ['F18', 'active gt true', 400, 'FLT-022'],
  ['F19', 'emails co "example.com"', ['U1', 'U4'], 'FLT-030'],
  ['F20', 'emails.value co "example.org"', ['U2']],
  ['F21', 'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', ['U1']],
  ['F22', 'emails[type eq "work" and value co "@example.com"]', ['U1'], 'FLT-031'],
  ['F23', 'emails.type eq "work" and emails.value co "@example.com"', ['U1', 'U4'], 'FLT-031 contrast'],
  ['F24', 'emails[type eq "home"]', ['U1', 'U4']],
  ['F25', 'emails pr', ['U1', 'U2', 'U4'], 'FLT-028'],
  ['F26', 'emails[type eq "work" and value co "@example.com"] or name.givenName eq "James"', ['U1', 'U2']],
  ['F27', 'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', ['U2'], 'FLT-010'],
  ['F28', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"', ['U1']],
  ['F29', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "<U2.id>"', ['U1']],
  ['F30', 'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', ['U1', 'U2'], 'FLT-036'],
  ['F31', 'meta.lastModified gt "<U2.meta.lastModified>"', ['U1', 'U3', 'U4'], 'FLT-023'],
  ['F32', 'meta.lastModified le "<U2.meta.lastModified>"', ['U2']],
  ['F33', 'meta.created ge "2000-01-01T00:00:00Z"', ALL],
  ['F34', 'meta.lastModified gt "not-a-date"', 400, 'FLT-023'],
  ['F35', 'displayName eq "ZO\u00cb \u00c5NGSTR\u00d6M"', ['U3'], 'FLT-020 Unicode'],
  ['F36', 'nickName eq "Bob \\"The Builder\\""', ['U3'], 'FLT-004'],
  ['F37', 'displayName eq "Zo\\u00eb \\u00c5ngstr\\u00f6m"', ['U3'], 'FLT-004'],
  ['F38', 'userName eq "bjensen@example.com" and', 400],
  ['F39', 'userName regex "x"', 400, 'FLT-033'],
  ['F40', 'not userName eq "x"', 400, 'FLT-006'],
  ['F41', 'emails[type eq "work" and value[x eq "y"]]', 400, 'FLT-007'],
  ['F42', 'userName   eq    "omalley"', ['U3'], 'FLT-003'],
  ['F43', '(userName eq "bjensen@example.com") or (userName eq "omalley")', ['U1', 'U3']],
  ['F44', 'userName eq "omalley" or userName eq "split@example.com" and active eq false', ['U3'], 'FLT-032'],
  ['F45', '(userName eq "omalley" or userName eq "split@example.com") and active eq true', ['U3', 'U4']],
  ['F46', 'title eq null', ['U2', 'U3', 'U4'], 'FLT-029'],
  ['F47', 'title ne null', ['U1'], 'FLT-029'],
  ['F48', 'emails[type eq "work"].value eq "bjensen@example.com"', ['U1'], 'FLT-060'],
  ['F49', 'manager eq "<U2.id>"', ['U1'], 'FLT-012, FLT-030'],
  ['F50', 'id eq "<U1.id>" and manager eq "<U2.id>"', ['U1']],
  ['F51', 'ID EQ "<U1.id>"', ['U1']],
  ['F52', 'password eq "x"', 400, 'FLT-035'],
  ['F53', 'userName gt "a"', ALL],
  ['F54', 'userName lt "c"', ['U1']],
  ['F55', 'phoneNumbers[type eq "work"] and emails[type eq "work"]', ['U1']],
  ['F56', 'nosuchattr eq "x"', 400, 'FLT-013'],
  ['F57', 'emails.display pr', []],
  ['F58', 'name pr', ['U1', 'U2', 'U3'], 'FLT-030'],
  ['F59', 'emails[not (type eq "work")]', ['U1', 'U4']],
  ['F60', 'userName eq 123', 400, 'FLT-024'],
  ['F61', 'externalId eq ext-bjensen', ['U1'], 'FLT-061'],
  ['F62', 'emails[type eq "work" or (type eq "home" and value ew "@jensen.org")]', ['U1', 'U2', 'U4'], 'E7322'],
  ['F63', 'userName eq "omalley" OR userName eq "split@example.com"', ['U3', 'U4'], 'FLT-002'],
  ['F64', 'name[givenName eq "Zo\u00eb"]', ['U3'], 'FLT-031'],
]

const groupRows: Row[] = [
  ['FG1', 'displayName eq "tour guides"', ['G1']],
  ['FG2', 'displayName eq "Tour Guides"', ['G1']],
  ['FG3', 'members[value eq "<U1.id>"]', ['G1']],
  ['FG4', 'members.value eq "<U2.id>"', ['G1']],
  ['FG5', 'members pr', ['G1']],
  ['FG6', 'displayName sw "Emp"', ['G2']],
  ['FG7', 'userName eq "x"', 400, 'FLT-013'],
]

function run(rt: CompiledResourceType, fixtures: Record<string, Readonly<Record<string, unknown>>>, rows: Row[]): void {
  test.each(rows)('%s %s', (_id, raw, expected) => {
    const text = fill(raw)
    if (expected === 400) {
      let err: unknown
      try {
        parseFilter(text, rt)
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ status: 400, scimType: 'invalidFilter', code: 'ERR_SCIM_INVALID_FILTER' })
      return
    }
    const test = compileFilter(parseFilter(text, rt))
    const got = Object.entries(fixtures)
      .filter(([, v]) => test(v))
      .map(([k]) => k)
    expect(got).toEqual(expected)
  })
}

describe('§4.6 filter conformance matrix, Users (F01–F64)', () => run(users, USERS, userRows))
describe('§4.6 filter conformance matrix, Groups (FG1–FG7)', () => run(groups, GROUPS, groupRows))

describe('§4.6 error details', () => {
  const detail = (f: string): string => {
    try {
      parseFilter(f, users)
    } catch (e) {
      return (e as Error).message
    }
    throw new Error('no error')
  }
  test('F39 FLT-033 unknown operator is named', () => expect(detail('userName regex "x"')).toContain('regex'))
  test('F56 FLT-013 unknown attribute is named', () => expect(detail('nosuchattr eq "x"')).toContain('nosuchattr'))
  test('FG7 FLT-013 User attribute on Groups is named', () => {
    expect(() => parseFilter('userName eq "x"', groups)).toThrow(/userName/)
  })
  test('F38 syntax error names the column', () => expect(detail('userName eq "bjensen@example.com" and')).toMatch(/column \d+/))
  test('F40 FLT-006 bare not explains itself', () => expect(detail('not userName eq "x"')).toMatch(/not/))
  test('F41 FLT-007 nested valuePath explains itself', () => expect(detail('emails[type eq "work" and value[x eq "y"]]')).toMatch(/nested/))
})
