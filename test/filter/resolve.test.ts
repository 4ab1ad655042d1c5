/** Resolution and normalisation of filters against the schema (FLT-010..035). */
import { parseFilter, type FilterNode } from '../../src/filter'
import { parseFilterSyntax } from '../../src/filter/parse'
import { resolveForType } from '../../src/filter/resolve'
import { ENTERPRISE_USER_SCHEMA, groups, users } from './fixtures'
import { createRegistry } from '../../src/schema/registry'
import { defineAttribute } from '../../src/schema/types'
import * as core from '../../src/schema/core-schemas'

const r = (f: string): FilterNode => parseFilter(f, users)
function invalid(f: string, detail?: RegExp): void {
  let err: unknown
  try {
    parseFilter(f, users)
  } catch (e) {
    err = e
  }
  expect(err).toMatchObject({ status: 400, scimType: 'invalidFilter', code: 'ERR_SCIM_INVALID_FILTER' })
  if (detail) expect((err as Error).message).toMatch(detail)
}

describe('FLT-010..014 attribute resolution', () => {
  test('FLT-010 longest URN prefix, case-insensitive', () => {
    expect(r('urn:ietf:params:scim:schemas:core:2.0:User:userName pr')).toMatchObject({ attribute: { path: 'userName' } })
    expect(r(`${ENTERPRISE_USER_SCHEMA}:manager.value pr`)).toMatchObject({
      attribute: { path: `${ENTERPRISE_USER_SCHEMA}:manager.value`, extension: true },
    })
    expect(r(`${ENTERPRISE_USER_SCHEMA.toUpperCase()}:DEPARTMENT pr`)).toMatchObject({ attribute: { def: { name: 'department' } } })
  })
  test('FLT-011 case-insensitive names', () => {
    expect(r('name.FamilyName pr')).toMatchObject({ attribute: { path: 'name.familyName' } })
    expect(r('meta.Created pr')).toMatchObject({ attribute: { path: 'meta.created' } })
    expect(r('DisplayName pr')).toMatchObject({ attribute: { path: 'displayName' } })
  })
  test('FLT-012 bare extension name resolves to the extension', () => {
    expect(r('employeeNumber eq "1"')).toMatchObject({ attribute: { path: `${ENTERPRISE_USER_SCHEMA}:employeeNumber` } })
  })
  test('FLT-013 unknown attribute and unknown URN name the attribute', () => {
    invalid('nosuch eq "x"', /nosuch/)
    invalid('name.nosuch eq "x"', /name\.nosuch/)
    invalid('urn:example:unknown:1.0:User:foo eq "x"', /urn:example:unknown/)
    invalid('emails[nosuch eq "x"]', /nosuch/)
    expect(() => parseFilter('title pr', groups)).toThrow(/title/)
  })
  test('FLT-013 a schema URN alone is not an attribute', () => {
    invalid(`${ENTERPRISE_USER_SCHEMA} pr`)
  })
  test('FLT-014 common attributes', () => {
    for (const a of ['id', 'externalId', 'meta.created', 'meta.lastModified', 'meta.resourceType', 'meta.version', 'meta.location', 'schemas']) {
      expect(parseFilter(`${a} pr`, groups)).toMatchObject({ type: 'present' })
    }
  })
})

describe('FLT-022..025 operator/type combinations and value typing', () => {
  test('FLT-022 boolean: only eq/ne', () => {
    for (const op of ['gt', 'ge', 'lt', 'le', 'co', 'sw', 'ew']) invalid(`active ${op} true`)
    expect(r('active ne true')).toMatchObject({ op: 'ne', value: true })
  })
  test('FLT-022 dateTime: no co/sw/ew', () => {
    for (const op of ['co', 'sw', 'ew']) invalid(`meta.created ${op} "2020-01-01T00:00:00Z"`)
  })
  test('FLT-022 binary: no ordering', () => {
    invalid('x509Certificates.value gt "AA=="')
    expect(r('x509Certificates.value eq "AA=="')).toMatchObject({ type: 'compare' })
  })
  test('FLT-025 boolean strings', () => {
    expect(r('active eq "True"')).toMatchObject({ value: true })
    expect(r('active eq "false"')).toMatchObject({ value: false })
    expect(r('emails[primary eq "True"]')).toMatchObject({ filter: { value: true } })
    expect(r('active eq TRUE')).toMatchObject({ value: true })
    invalid('active eq "yes"')
    invalid('active eq 1')
  })
  test('FLT-024 number vs string attribute', () => {
    invalid('userName eq 123', /number/)
    invalid('title eq true')
  })
  test('FLT-023 dateTime validation', () => {
    expect(r('meta.created gt "2011-05-13T04:42:34Z"')).toMatchObject({ value: '2011-05-13T04:42:34Z' })
    expect(r('meta.created gt 2015-10-10T14:38:21.8617979-07:00')).toMatchObject({ value: '2015-10-10T14:38:21.8617979-07:00' })
    expect(r('meta.created gt "2015-10-10T14:38:21"')).toMatchObject({ type: 'compare' })
    invalid('meta.lastModified gt "not-a-date"', /not-a-date/)
    invalid('meta.created gt "2015-13-01T00:00:00Z"')
    invalid('meta.created gt "2015-02-30T00:00:00Z"')
    invalid('meta.created gt "2015-02-01"')
    invalid('meta.created gt 5')
  })
})

describe('FLT-029/030/035 normalisation', () => {
  test('FLT-029 eq null → not(present), ne null → present, others 400', () => {
    expect(r('title eq null')).toMatchObject({ type: 'not', filter: { type: 'present', attribute: { path: 'title' } } })
    expect(r('title ne null')).toMatchObject({ type: 'present', attribute: { path: 'title' } })
    invalid('title co null', /null/)
  })
  test('FLT-030 complex attribute means its value sub-attribute', () => {
    expect(r('emails co "x"')).toMatchObject({ type: 'compare', attribute: { path: 'emails.value' } })
    expect(r('manager eq "id"')).toMatchObject({ attribute: { path: `${ENTERPRISE_USER_SCHEMA}:manager.value` } })
    expect(r('emails pr')).toMatchObject({ type: 'present', attribute: { path: 'emails' } })
    invalid('name eq "x"', /sub-attribute/)
    invalid('meta eq "x"')
  })
  test('FLT-030 valuePath needs a complex attribute', () => {
    invalid('userName[value eq "x"]', /complex/)
  })
  test('FLT-035 returned:never is not filterable', () => {
    invalid('password eq "x"', /password/)
    invalid('password pr')
  })
  test('FLT-012 ambiguity → invalidFilter', () => {
    // Two extensions defining the same name, built ad hoc.
    const ext2 = { id: 'urn:example:ext:2.0:User', name: 'X', description: '', attributes: [defineAttribute({ name: 'department' })] }
    const reg = createRegistry([core.userSchema, core.enterpriseUserSchema, ext2], [
      {
        ...core.userResourceType,
        schemaExtensions: [
          { schema: core.ENTERPRISE_USER_SCHEMA, required: false },
          { schema: ext2.id, required: false },
        ],
      },
    ])
    const rt = reg.bySegment('Users')!
    expect(() => parseFilter('department eq "x"', rt)).toThrow(expect.objectContaining({ scimType: 'invalidFilter' }))
    expect(parseFilter('urn:example:ext:2.0:User:department eq "x"', rt)).toMatchObject({ attribute: { schema: ext2.id } })
  })
  test('valuePath leaves point at the parent attribute (FLT-031)', () => {
    const n = r('emails[type eq "work" and value co "x"]')
    expect(n.type).toBe('valuePath')
    if (n.type !== 'valuePath' || n.filter.type !== 'and') throw new Error('shape')
    for (const leaf of n.filter.filters) expect(leaf.type === 'compare' && leaf.attribute.parent).toBe(n.attribute)
  })
})

describe('resolveForType: root queries, one type at a time (RFC 7644 §3.4.2.2, FLT-013)', () => {
  const forGroups = (f: string) => resolveForType(parseFilterSyntax(f), groups)
  test.each<[string, boolean | string]>([
    ['userName eq "a"', false],
    ['userName ne "a"', false], // FLT-027: no value matches no comparison, ne included
    ['userName pr', false],
    ['not (userName pr)', true],
    ['userName eq null', true], // FLT-029: eq null is not pr
    ['userName ne null', false],
    ['emails[type eq "work"]', false],
    ['userName eq "a" or displayName eq "Team"', 'compare'],
    ['userName eq "a" and displayName eq "Team"', false],
    ['not (userName eq "a") and displayName eq "Team"', 'compare'],
    ['not (userName eq "a" or title pr)', true],
    ['(userName pr or title pr) or members pr', 'present'],
    ['displayName eq "A" or displayName eq "B" or userName pr', 'or'],
  ])('%s on Groups → %s', (f, want) => {
    const got = forGroups(f)
    if (typeof want === 'boolean') expect(got).toBe(want)
    else expect(got).toMatchObject({ type: want })
  })
  test('defined attributes resolve as usual and are reported; other errors still throw', () => {
    const seen: string[] = []
    const got = resolveForType(parseFilterSyntax('displayName eq "x" or userName pr'), groups, (n) => seen.push(n.type))
    expect(got).toMatchObject({ type: 'compare', attribute: { path: 'displayName' }, value: 'x' })
    expect(seen).toEqual(['compare'])
    expect(() => forGroups('displayName gt 5')).toThrow(expect.objectContaining({ scimType: 'invalidFilter' }))
    expect(() => forGroups('userName gt null')).toThrow(expect.objectContaining({ scimType: 'invalidFilter' }))
  })
})
