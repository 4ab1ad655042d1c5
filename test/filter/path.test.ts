/** PATCH paths, RFC 7644 §3.5.2 Figure 7 `PATH = attrPath / valuePath [subAttr]` (PAT-006/007). */
import { compileFilter, parsePath, parsePathSyntax } from '../../src/filter'
import { ENTERPRISE_USER_SCHEMA, groups, ID, U1, U4, users } from './fixtures'

function error(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('no error')
}
const invalidPath = { status: 400, scimType: 'invalidPath', code: 'ERR_SCIM_INVALID_PATH' }
const invalidFilter = { status: 400, scimType: 'invalidFilter', code: 'ERR_SCIM_INVALID_FILTER' }

describe('PAT-007 RFC 7644 Figure 8 paths parse', () => {
  test.each([
    'members',
    'name.familyName',
    'addresses[type eq "work"]',
    'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
    'members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName',
  ])('%s', (p) => {
    expect(parsePathSyntax(p)).toBeDefined()
  })
})

describe('parsePath resolution', () => {
  test('members (Group)', () => {
    const p = parsePath('members', groups)
    expect(p.attribute.path).toBe('members')
    expect(p.filter).toBeUndefined()
  })

  test('members[value eq "x"]: filter leaves are sub-attributes of members', () => {
    const p = parsePath(`members[value eq "${ID.U1}"]`, groups)
    expect(p.attribute.path).toBe('members')
    expect(p.filter).toMatchObject({ type: 'compare', op: 'eq', value: ID.U1 })
    expect(p.filter?.type === 'compare' && p.filter.attribute.parent).toBe(p.attribute)
    expect(p.sub).toBeUndefined()
  })

  test('emails[type eq "work"].value: attribute, filter and sub', () => {
    const p = parsePath('emails[type eq "work"].value', users)
    expect(p.attribute.path).toBe('emails')
    expect(p.sub?.path).toBe('emails.value')
    expect(p.sub?.parent).toBe(p.attribute)
    // the filter selects elements; usable with compileFilter through a valuePath node
    const select = compileFilter({ type: 'valuePath', attribute: p.attribute, filter: p.filter! })
    expect(select(U1)).toBe(true)
  })

  test('FLT-010 urn:…:enterprise:2.0:User:manager', () => {
    const p = parsePath(`${ENTERPRISE_USER_SCHEMA}:manager`, users)
    expect(p.attribute.path).toBe(`${ENTERPRISE_USER_SCHEMA}:manager`)
    expect(p.attribute.extension).toBe(true)
    expect(p.attribute.def.type).toBe('complex')
  })

  test('FLT-010 urn:…:enterprise:2.0:User:manager.value and case-insensitive URN', () => {
    expect(parsePath(`${ENTERPRISE_USER_SCHEMA}:manager.value`, users).attribute.path).toBe(`${ENTERPRISE_USER_SCHEMA}:manager.value`)
    expect(parsePath(`${ENTERPRISE_USER_SCHEMA.toUpperCase()}:DEPARTMENT`, users).attribute.def.name).toBe('department')
  })

  test('FLT-011 name.givenName, case-insensitive', () => {
    const p = parsePath('Name.GivenName', users)
    expect(p.attribute.path).toBe('name.givenName')
    expect(p.attribute.parent?.path).toBe('name')
  })

  test('password is a valid path (returned:never is writable)', () => {
    expect(parsePath('password', users).attribute.def.name).toBe('password')
  })

  test('FLT-060-like leaves and not/or inside the path filter', () => {
    const p = parsePath('emails[not (type eq "work") or primary eq true]', users)
    expect(p.filter).toMatchObject({ type: 'or' })
    expect(compileFilter({ type: 'valuePath', attribute: p.attribute, filter: p.filter! })(U4)).toBe(true)
  })
})

describe('PAT-006 errors', () => {
  test('unknown attribute → invalidPath naming it', () => {
    const e = error(() => parsePath('nosuchattr', users))
    expect(e).toMatchObject(invalidPath)
    expect((e as Error).message).toContain('nosuchattr')
  })
  test('unknown sub-attribute → invalidPath', () => {
    expect(error(() => parsePath('name.nosuch', users))).toMatchObject(invalidPath)
  })
  test('PAT-007 members[...].displayName parses but does not resolve on Group → invalidPath', () => {
    expect(error(() => parsePath('members[value eq "x"].displayName', groups))).toMatchObject(invalidPath)
  })
  test('syntax errors outside the brackets → invalidPath with column', () => {
    for (const p of ['name..givenName', 'emails[type eq "work"]value', 'emails[type eq "work"].', 'a b', '1abc']) {
      const e = error(() => parsePath(p, users))
      expect(e).toMatchObject(invalidPath)
      expect((e as Error).message).toMatch(/column \d+/)
    }
  })
  test('empty path → invalidPath', () => {
    expect(error(() => parsePath('', users))).toMatchObject(invalidPath)
  })
  test('bad filter inside the brackets → invalidFilter', () => {
    expect(error(() => parsePath('emails[type eq]', users))).toMatchObject(invalidFilter)
    expect(error(() => parsePath('emails[type regex "x"]', users))).toMatchObject(invalidFilter)
    expect(error(() => parsePath('emails[nosuch eq "x"]', users))).toMatchObject(invalidFilter)
    expect(error(() => parsePath('emails[primary gt true]', users))).toMatchObject(invalidFilter)
    expect(error(() => parsePath('emails[type eq "a" and value[x eq "y"]]', users))).toMatchObject(invalidFilter)
  })
  test('filter on a non-complex attribute → invalidPath', () => {
    expect(error(() => parsePath('userName[value eq "x"]', users))).toMatchObject(invalidPath)
    expect(error(() => parsePath('name.givenName[value eq "x"]', users))).toMatchObject(invalidPath)
  })
  test('a bare extension URN is not an attribute path → invalidPath', () => {
    expect(error(() => parsePath(ENTERPRISE_USER_SCHEMA, users))).toMatchObject(invalidPath)
  })
})
