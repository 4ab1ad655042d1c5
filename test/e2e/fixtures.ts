/**
 * Requirement fixtures U1, U2, U3, G1, G2 (scim-requirements §0.4), seeded through the API in the
 * order of §6 (U2, U1, U3, G1, G2).
 */
import { u1Attributes } from '../fixtures/requirements'
import { ENTERPRISE, GROUP, USER, type Client } from './harness'

export const U2_BODY = {
  schemas: [USER, ENTERPRISE],
  userName: 'JSmith@Example.com',
  active: false,
  name: { givenName: 'James', familyName: 'Smith' },
  emails: [{ value: 'jsmith@example.org', type: 'work' }],
  [ENTERPRISE]: { costCenter: '4130' },
}

export const u1Body = (managerId: string) => ({ schemas: [USER, ENTERPRISE], ...u1Attributes(managerId) })

export const U3_BODY = {
  schemas: [USER],
  userName: 'omalley',
  name: { familyName: "O'Malley", givenName: 'Zoë' },
  displayName: 'Zoë Ångström',
  nickName: 'Bob "The Builder"',
  emails: [],
  active: true,
}

export interface Seeded {
  u1: any
  u2: any
  u3: any
  g1?: any
  g2?: any
}

async function create(c: Client, path: string, body: unknown): Promise<any> {
  const res = await c.post(path, body)
  if (res.status !== 201) throw new Error(`seed ${path} failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

async function read(c: Client, path: string): Promise<any> {
  const res = await c.get(path)
  if (res.status !== 200) throw new Error(`seed: GET ${path} failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

/** Seed U2, U1, U3 (and G1, G2 when `groups`), in that order. */
export async function seed(c: Client, groups = false): Promise<Seeded> {
  const u2 = await create(c, '/Users', U2_BODY)
  const u1 = await create(c, '/Users', u1Body(u2.id))
  const u3 = await create(c, '/Users', U3_BODY)
  if (!groups) return { u1, u2, u3 }
  const g1 = await create(c, '/Groups', { schemas: [GROUP], displayName: 'Tour Guides', members: [{ value: u1.id }, { value: u2.id }] })
  const g2 = await create(c, '/Groups', { schemas: [GROUP], displayName: 'Employees', members: [] })
  // Joining G1 changed U1's and U2's representation (groups) and so their version (ETG-002).
  return { u1: await read(c, `/Users/${u1.id}`), u2: await read(c, `/Users/${u2.id}`), u3, g1, g2 }
}

/**
 * supertest starts a fresh server (new port) per request, so derived base URLs differ between
 * requests; compare bodies with the scheme and authority removed.
 */
export function noHost<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(/https?:\/\/127\.0\.0\.1:\d+/g, '')) as T
}
export const pathOf = (url: string): string => url.replace(/^https?:\/\/[^/]+/, '')
