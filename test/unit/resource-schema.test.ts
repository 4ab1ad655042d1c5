/** The Ajv check every write passes (issue 4, item 5): types, shapes, required, named paths. */
import { compileResourceValidator, resourceJsonSchema } from '../../src/validation/resource-schema'
import { users, groups } from '../filter/fixtures'

const user = compileResourceValidator(users)
const group = compileResourceValidator(groups)
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

describe('resource JSON Schema validation (RFC 7643 §2.3)', () => {
  it('accepts a complete, well-typed User', () => {
    expect(() =>
      user({
        userName: 'bjensen',
        externalId: 'x',
        name: { givenName: 'B' },
        active: true,
        emails: [{ value: 'b@x.com', type: 'work', primary: true }],
        x509Certificates: [{ value: 'TUlJRA==' }],
        [ENT]: { department: 'D', manager: { value: 'm' } },
      }),
    ).not.toThrow()
  })

  it.each([
    [{ userName: 'u', active: 'yes' }, "Attribute 'active' must be boolean"],
    [{ userName: 'u', emails: { value: 'x' } }, "Attribute 'emails' must be array"],
    [{ userName: 'u', emails: [{ value: 1 }] }, "Attribute 'emails[0].value' must be string"],
    [{ userName: 'u', name: 'Babs' }, "Attribute 'name' must be object"],
    [{ userName: 'u', x509Certificates: [{ value: 'not base64!' }] }, "Attribute 'x509Certificates[0].value' must match pattern"],
    [{ userName: 'u', [ENT]: { manager: { value: 5 } } }, `Attribute '${ENT}.manager.value' must be string`],
    [{ name: { givenName: 'x' } }, "Required attribute 'userName' is missing"],
    [{ userName: '' }, "Attribute 'userName' must NOT have fewer than 1 characters"],
  ])('rejects %j with invalidValue naming the attribute', (attrs, message) => {
    let err: { code?: string; message?: string } | undefined
    try {
      user(attrs as Record<string, unknown>)
    } catch (e) {
      err = e as typeof err
    }
    expect(err?.code).toBe('ERR_SCIM_INVALID_VALUE')
    expect(err?.message).toContain(message)
  })

  it('Group displayName is required and members are arrays of objects', () => {
    expect(() => group({ displayName: 'G', members: [{ value: 'u1', type: 'User' }] })).not.toThrow()
    expect(() => group({ members: [] })).toThrow(/displayName/)
    expect(() => group({ displayName: 'G', members: ['u1'] })).toThrow(/members\[0\]/)
  })

  it('the schema is generated from the registry: every core attribute has a property', () => {
    const schema = resourceJsonSchema(users) as { properties: Record<string, unknown> }
    for (const a of users.coreSchema.attributes) expect(schema.properties).toHaveProperty(a.name)
    expect(Object.keys(schema.properties)).toContain(ENT)
  })
})

describe('PATCH results: only the attributes the operations wrote are checked (issue 16 item 3)', () => {
  const rejects = (attrs: Record<string, unknown>, touched: string[]): string | undefined => {
    try {
      user(attrs, new Set(touched))
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ERR_SCIM_INVALID_VALUE')
      return (e as Error).message
    }
    return undefined
  }

  it.each([
    [{ userName: 'u', active: 'yes' }, ['active'], "Attribute 'active' must be boolean"],
    [{ userName: 'u', emails: [{ value: 1 }] }, ['emails'], "Attribute 'emails[0].value' must be string"],
    [{ userName: 'u', name: { givenName: 5 } }, ['name'], "Attribute 'name.givenName' must be string"],
    [{ userName: '' }, ['userName'], "Attribute 'userName' must NOT have fewer than 1 characters"],
    [{ userName: 'u', [ENT]: { manager: { value: 5 } } }, [`${ENT}:manager`], `Attribute '${ENT}:manager.value' must be string`],
    [{ userName: 'u', [ENT]: { department: 7 } }, [ENT], `Attribute '${ENT}.department' must be string`],
    [{ userName: 'u', externalId: 3 }, ['externalId'], "Attribute 'externalId' must be string"],
  ])('%j with %j written is invalidValue naming the attribute', (attrs, touched, message) => {
    expect(rejects(attrs, touched)).toBe(message)
  })

  it('a stored value the PATCH did not write is not checked again; an unknown path checks everything', () => {
    const stored = { userName: 'u', active: true, title: 42 } // e.g. a column of an existing table holding a number
    expect(rejects(stored, ['active'])).toBeUndefined()
    expect(rejects(stored, ['title'])).toBe("Attribute 'title' must be string")
    expect(rejects(stored, ['no.such.path'])).toBe("Attribute 'title' must be string")
    expect(rejects(stored, [])).toBeUndefined()
  })
})
