/** Fixtures U1–U4, G1–G2 of the requirements (§0.4, §4.6) as rendered views. */
import { createRegistry } from '../../src/schema/registry'
import { u1Attributes } from '../fixtures/requirements'
import {
  userSchema,
  groupSchema,
  enterpriseUserSchema,
  userResourceType,
  groupResourceType,
  USER_SCHEMA,
  GROUP_SCHEMA,
  ENTERPRISE_USER_SCHEMA,
} from '../../src/schema/core-schemas'
import type { ScimResourceView } from '../../src/filter'

export const reg = createRegistry([userSchema, groupSchema, enterpriseUserSchema], [userResourceType, groupResourceType])
export const users = reg.bySegment('Users')!
export const groups = reg.bySegment('Groups')!
export { USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA }

/** Creation order U2, U1, U3, U4 (one second apart), then G1, G2. */
const CREATED: Record<string, string> = {
  U2: '2024-05-01T10:00:00.000Z',
  U1: '2024-05-01T10:00:01.000Z',
  U3: '2024-05-01T10:00:02.000Z',
  U4: '2024-05-01T10:00:03.000Z',
  G1: '2024-05-01T10:00:04.000Z',
  G2: '2024-05-01T10:00:05.000Z',
}

export const ID: Record<string, string> = {
  U1: '2819c223-7f76-453a-919d-413861904646',
  U2: '9a1f3b6e-0c2d-4e5f-8a7b-1c2d3e4f5a6b',
  U3: 'c0ffee00-0000-4000-8000-000000000003',
  U4: 'c0ffee00-0000-4000-8000-000000000004',
  G1: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
  G2: 'fc348aa8-3835-40eb-a20b-c726e15c55b5',
}

/** Build a rendered view: adds id, meta and (unless given) schemas. */
export function view(key: string, resourceType: 'User' | 'Group', attrs: Record<string, unknown>): ScimResourceView {
  const created = CREATED[key] ?? '2024-05-01T00:00:00.000Z'
  const id = ID[key] ?? key
  return {
    schemas: [resourceType === 'User' ? USER_SCHEMA : GROUP_SCHEMA],
    id,
    meta: {
      resourceType,
      created,
      lastModified: created,
      version: `W/"${key}"`,
      location: `https://example.com/scim/v2/${resourceType}s/${id}`,
    },
    ...attrs,
  }
}

export const U1 = view('U1', 'User', { schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], ...u1Attributes(ID['U2'] as string) })

export const U2 = view('U2', 'User', {
  schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
  userName: 'JSmith@Example.com',
  active: false,
  name: { givenName: 'James', familyName: 'Smith' },
  emails: [{ value: 'jsmith@example.org', type: 'work' }],
  [ENTERPRISE_USER_SCHEMA]: { costCenter: '4130' },
})

export const U3 = view('U3', 'User', {
  userName: 'omalley',
  name: { familyName: "O'Malley", givenName: 'Zo\u00eb' },
  displayName: 'Zo\u00eb \u00c5ngstr\u00f6m',
  nickName: 'Bob "The Builder"',
  emails: [],
  active: true,
})

export const U4 = view('U4', 'User', {
  userName: 'split@example.com',
  active: true,
  emails: [
    { value: 'a@other.com', type: 'work' },
    { value: 'b@example.com', type: 'home' },
  ],
})

export const G1 = view('G1', 'Group', { displayName: 'Tour Guides', members: [{ value: ID.U1 }, { value: ID.U2 }] })
export const G2 = view('G2', 'Group', { displayName: 'Employees', members: [] })

export const USERS: Record<string, ScimResourceView> = { U1, U2, U3, U4 }
export const GROUPS: Record<string, ScimResourceView> = { G1, G2 }

/** Replace `<U1.id>`-style placeholders. */
export function fill(text: string): string {
  return text.replace(/<(U\d|G\d)\.(id|meta\.lastModified)>/g, (_, k: string, what: string) => {
    const v = USERS[k] ?? GROUPS[k]
    if (!v) throw new Error(`no fixture ${k}`)
    return what === 'id' ? String(v.id) : String((v.meta as { lastModified: string }).lastModified)
  })
}
