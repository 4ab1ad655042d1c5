/**
 * Issue 11 item 2 (RES-081, PAT-023, PAT-061): multi-valued work is linear in the number of values.
 * De-duplication (RFC 7643 §2.4), PATCH add (RFC 7644 §3.5.2.1: values already present are not
 * added again) and remove by value (§3.5.2.2) used to compare every value with every other: a POST
 * with 24,000 emails blocked the process for 15 s. The router counts its comparisons and keys
 * (`multiValuedWork`); ten times the values must cost about ten times the work, not a hundred.
 * A count, not a clock: the result does not depend on the machine.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import request from 'supertest'
import { MemoryAdapter, scimRouter } from '../../src'
import { multiValuedWork } from '../../src/schema/values'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const N = 500

jest.setTimeout(120_000)

interface Fixture {
  app: (req: IncomingMessage, res: ServerResponse) => void
  adapter: MemoryAdapter
  userIds: string[]
}

async function fixture(n: number): Promise<Fixture> {
  const adapter = new MemoryAdapter()
  const router = scimRouter(adapter, { authenticate: 'none', maxBodyBytes: 64 * 1024 * 1024 })
  const app = (req: IncomingMessage, res: ServerResponse): void => router(req, res, () => undefined)
  const userIds: string[] = []
  for (let i = 0; i < n; i++) {
    const u = await adapter.create({ resourceType: 'User', attributes: { userName: `m${i}@example.com` }, unique: [{ path: 'userName', caseExact: false }] }, { principal: undefined })
    userIds.push(u.id)
  }
  return { app, adapter, userIds }
}

const emails = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: `User.${from + i}@Example.com`, type: 'work' }))
const send = (app: Fixture['app'], method: 'post' | 'put' | 'patch', url: string, body: unknown) =>
  request(app)[method](url).set('Content-Type', 'application/scim+json').send(JSON.stringify(body))

/** The work one request does, counted. */
async function work(run: () => Promise<request.Response>, status: number): Promise<number> {
  const before = multiValuedWork.count
  const res = await run()
  expect(res.status).toBe(status)
  return multiValuedWork.count - before
}

type Scenario = (f: Fixture, n: number) => Promise<number>

const scenarios: Array<[string, Scenario]> = [
  [
    'POST a User with n emails (de-duplication, RES-081)',
    (f, n) => work(() => send(f.app, 'post', '/Users', { schemas: [USER], userName: 'many@example.com', emails: [...emails(n), ...emails(n)] }), 201),
  ],
  [
    'PUT a Group with n members',
    async (f) => {
      const g = await send(f.app, 'post', '/Groups', { schemas: [GROUP], displayName: 'big' })
      return work(() => send(f.app, 'put', `/Groups/${g.body.id}`, { schemas: [GROUP], displayName: 'big', members: f.userIds.map((value) => ({ value })) }), 200)
    },
  ],
  [
    'PATCH add n members, then remove them all by value array (PAT-061)',
    async (f) => {
      const g = await send(f.app, 'post', '/Groups', { schemas: [GROUP], displayName: 'grows' })
      const members = f.userIds.map((value) => ({ value }))
      const add = await work(() => send(f.app, 'patch', `/Groups/${g.body.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: members }] }), 204)
      const remove = await work(() => send(f.app, 'patch', `/Groups/${g.body.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members', value: members }] }), 204)
      return add + remove
    },
  ],
  [
    'PATCH add n emails to a User with n emails, then remove them by value (PAT-023, generic path)',
    async (f, n) => {
      const u = await send(f.app, 'post', '/Users', { schemas: [USER], userName: 'grows@example.com', emails: emails(n) })
      expect(u.status).toBe(201)
      // Half of the added values are already present (in another case: emails.value is caseExact false).
      const more = [...emails(n / 2, n / 2).map((e) => ({ ...e, value: e.value.toUpperCase() })), ...emails(n / 2, n)]
      const add = await work(() => send(f.app, 'patch', `/Users/${u.body.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'emails', value: more }] }), 200)
      const after = await request(f.app).get(`/Users/${u.body.id}`)
      expect(after.body.emails).toHaveLength(n + n / 2)
      const remove = await work(() => send(f.app, 'patch', `/Users/${u.body.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'emails', value: emails(n) }] }), 200)
      const left = await request(f.app).get(`/Users/${u.body.id}`)
      expect(left.body.emails).toHaveLength(n / 2)
      return add + remove
    },
  ],
]

describe.each(scenarios)('%s', (_name, scenario) => {
  it('costs about ten times the work for ten times the values', async () => {
    const small = await scenario(await fixture(N), N)
    const large = await scenario(await fixture(10 * N), 10 * N)
    expect(small).toBeGreaterThan(0)
    // Linear work gives ~10; the old pairwise comparisons gave ~100.
    expect(large / small).toBeLessThan(13)
  })
})

it('de-duplication still drops exact duplicates and keeps distinct values (RFC 7643 §2.4)', async () => {
  const f = await fixture(0)
  const res = await send(f.app, 'post', '/Users', {
    schemas: [USER],
    userName: 'dups@example.com',
    emails: [
      { value: 'a@example.com', type: 'work' },
      { type: 'work', value: 'a@example.com' },
      { value: 'a@example.com', type: 'home' },
      { value: 'A@example.com', type: 'work' },
    ],
  })
  expect(res.status).toBe(201)
  expect(res.body.emails).toEqual([
    { value: 'a@example.com', type: 'work' },
    { value: 'a@example.com', type: 'home' },
    { value: 'A@example.com', type: 'work' },
  ])
})
