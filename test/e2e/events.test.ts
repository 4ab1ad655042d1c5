/**
 * Lifecycle events (issue 7 §3, scim-requirements RES-065): what `onEvent` receives for each
 * committed change, deactivation however it arrives, deprovisioning, membership changes, tenant
 * context, failing hooks, awaited and fire-and-forget delivery, and Bulk parity.
 */
import { MemoryAdapter, bearerToken, type ScimEvent } from '../../src'
import { GROUP, USER, VARIANTS, client, expectError, makeApp, type Client } from './harness'

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })
const types = (events: ScimEvent[]) => events.map((e) => e.type)

describe.each(VARIANTS)('Lifecycle events: $name', (v) => {
  let c: Client
  let events: ScimEvent[]
  let adapter: MemoryAdapter

  beforeEach(() => {
    events = []
    adapter = new MemoryAdapter()
    c = client(v, makeApp(v, { onEvent: (e: ScimEvent) => void events.push(e), bulk: true }, adapter))
  })

  const createUser = async (userName: string, extra: Record<string, unknown> = {}) => {
    const res = await c.post('/Users', { schemas: [USER], userName, ...extra })
    expect(res.status).toBe(201)
    return res.body.id as string
  }

  it('user.created carries the rendered resource, never the password', async () => {
    const res = await c.post('/Users', { schemas: [USER], userName: 'pw', password: 'S3cret!pass', active: true })
    expect(res.status).toBe(201)
    expect(types(events)).toEqual(['user.created'])
    const e = events[0] as Extract<ScimEvent, { type: 'user.created' }>
    expect(e).toMatchObject({ resourceType: 'User', id: res.body.id })
    expect(e.resource).toMatchObject({ id: res.body.id, userName: 'pw', active: true, schemas: [USER] })
    expect(e.resource).not.toHaveProperty('password')
    expect(JSON.stringify(events)).not.toContain('S3cret')
    expect(e.at).toBeInstanceOf(Date)
  })

  it('user.updated on PATCH and PUT; a password change is not leaked', async () => {
    const id = await createUser('upd')
    events.length = 0
    await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'title', value: 'T' }))
    expect(types(events)).toEqual(['user.updated'])
    expect((events[0] as any).resource.title).toBe('T')
    events.length = 0
    await c.put(`/Users/${id}`, { schemas: [USER], userName: 'upd', title: 'T2' })
    expect(types(events)).toEqual(['user.updated'])
    events.length = 0
    await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'password', value: 'N3w!secret' }))
    expect(types(events)).toEqual(['user.updated'])
    expect((events[0] as any).resource).not.toHaveProperty('password')
    expect(JSON.stringify(events)).not.toContain('N3w!secret')
  })

  const deactivations: [string, (c: Client, id: string) => Promise<{ status: number }>][] = [
    ['Okta: no-path replace {"active":false}', (c, id) => c.patch(`/Users/${id}`, patch({ op: 'replace', value: { active: false } }))],
    ['Entra: Replace path active "False"', (c, id) => c.patch(`/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' }))],
    ['PATCH path active false (boolean)', (c, id) => c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))],
    ['PUT with active false', (c, id) => c.put(`/Users/${id}`, { schemas: [USER], userName: 'deact', active: false })],
  ]

  it.each(deactivations)('user.deactivated + user.deprovisioned (deactivated): %s', async (_name, deactivate) => {
    const id = await createUser('deact', { active: true })
    events.length = 0
    const res = await deactivate(c, id)
    expect(res.status).toBe(200)
    expect(types(events)).toEqual(['user.updated', 'user.deactivated', 'user.deprovisioned'])
    expect(events[1]).toMatchObject({ id, resourceType: 'User', resource: { active: false } })
    expect(events[2]).toMatchObject({ id, resourceType: 'User', reason: 'deactivated' })
    // already inactive: doing it again changes nothing and fires nothing
    events.length = 0
    expect((await deactivate(c, id)).status).toBe(200)
    expect(events).toEqual([])
    // user.reactivated on the way back, no deprovisioning
    const back = await c.patch(`/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'True' }))
    expect(back.status).toBe(200)
    expect(types(events)).toEqual(['user.updated', 'user.reactivated'])
    expect(events[1]).toMatchObject({ id, resource: { active: true } })
  })

  it('a user created inactive is not "deactivated"; a change to an inactive user is only an update', async () => {
    const id = await createUser('inactive', { active: false })
    expect(types(events)).toEqual(['user.created'])
    events.length = 0
    await c.put(`/Users/${id}`, { schemas: [USER], userName: 'inactive', active: false, title: 'x' })
    expect(types(events)).toEqual(['user.updated'])
  })

  it('PUT reactivation fires user.reactivated', async () => {
    const id = await createUser('putback', { active: false })
    events.length = 0
    await c.put(`/Users/${id}`, { schemas: [USER], userName: 'putback', active: true })
    expect(types(events)).toEqual(['user.updated', 'user.reactivated'])
  })

  it('events fire after the change is committed (the hook reads the new state)', async () => {
    const seen: unknown[] = []
    const app = makeApp(
      v,
      {
        onEvent: async (e: ScimEvent) => {
          const stored = await adapter.get({ resourceType: e.resourceType, id: e.id }, e.ctx as never)
          seen.push([e.type, stored === null ? null : stored.attributes['active']])
        },
      },
      adapter,
    )
    const c2 = client(v, app)
    const id = (await c2.post('/Users', { schemas: [USER], userName: 'commit', active: true })).body.id
    await c2.patch(`/Users/${id}`, patch({ op: 'replace', value: { active: false } }))
    await c2.delete(`/Users/${id}`)
    expect(seen).toEqual([
      ['user.created', true],
      ['user.updated', false],
      ['user.deactivated', false],
      ['user.deprovisioned', false],
      ['user.deleted', null],
      ['user.deprovisioned', null],
    ])
  })

  it('DELETE → user.deleted + user.deprovisioned (deleted) + group.members.removed for each group', async () => {
    const id = await createUser('gone')
    const keep = await createUser('keep')
    const g1 = (await c.post('/Groups', { schemas: [GROUP], displayName: 'G1', members: [{ value: id }, { value: keep }] })).body.id
    const g2 = (await c.post('/Groups', { schemas: [GROUP], displayName: 'G2', members: [{ value: id }] })).body.id
    const g3 = (await c.post('/Groups', { schemas: [GROUP], displayName: 'G3', members: [{ value: keep }] })).body.id
    events.length = 0
    expect((await c.delete(`/Users/${id}`)).status).toBe(204)
    // Commit order holds per resource; events of different resources may interleave (issue 13).
    const user = events.filter((e) => e.resourceType === 'User')
    expect(types(user)).toEqual(['user.deleted', 'user.deprovisioned'])
    expect(user[0]).toMatchObject({ id, resourceType: 'User' })
    expect(user[0]).not.toHaveProperty('resource')
    expect(user[1]).toMatchObject({ id, reason: 'deleted' })
    const removed = events.filter((e) => e.resourceType !== 'User')
    expect(removed.every((e) => e.type === 'group.members.removed' && e.resourceType === 'Group')).toBe(true)
    expect(removed.map((e) => [e.id, (e as any).memberIds]).sort()).toEqual([[g1, [id]], [g2, [id]]].sort())
    expect(removed.map((e) => e.id)).not.toContain(g3)
    expect((await c.get(`/Groups/${g1}`)).body.members.map((m: any) => m.value)).toEqual([keep])
  })

  it('group.created + group.members.added; PATCH add/remove → group.members.added/removed with the ids', async () => {
    const a = await createUser('a')
    const b = await createUser('b')
    const d = await createUser('d')
    events.length = 0
    const g = (await c.post('/Groups', { schemas: [GROUP], displayName: 'Team', members: [{ value: a }, { value: b }] })).body.id
    expect(types(events)).toEqual(['group.created', 'group.members.added'])
    expect(events[0]).toMatchObject({ id: g, resourceType: 'Group', resource: { displayName: 'Team' } })
    expect((events[1] as any).memberIds).toEqual([a, b])

    events.length = 0
    const add = await c.patch(`/Groups/${g}`, patch({ op: 'add', path: 'members', value: [{ value: d }] }))
    expect(add.status).toBe(204)
    expect(types(events)).toEqual(['group.updated', 'group.members.added'])
    expect((events[1] as any).memberIds).toEqual([d])

    events.length = 0
    // Entra's remove-by-value dialect
    await c.patch(`/Groups/${g}`, patch({ op: 'Remove', path: 'members', value: [{ value: a }] }))
    expect(types(events)).toEqual(['group.updated', 'group.members.removed'])
    expect((events[1] as any).memberIds).toEqual([a])

    events.length = 0
    await c.patch(`/Groups/${g}`, patch({ op: 'remove', path: `members[value eq "${b}"]` }, { op: 'add', path: 'members', value: [{ value: a }] }))
    expect(types(events)).toEqual(['group.updated', 'group.members.added', 'group.members.removed'])
    expect((events[1] as any).memberIds).toEqual([a])
    expect((events[2] as any).memberIds).toEqual([b])

    events.length = 0
    await c.patch(`/Groups/${g}`, patch({ op: 'replace', path: 'displayName', value: 'Renamed' }))
    expect(types(events)).toEqual(['group.updated'])

    events.length = 0
    expect((await c.delete(`/Groups/${g}`)).status).toBe(204)
    expect(types(events)).toEqual(['group.deleted', 'group.members.removed'])
    expect((events[1] as any).memberIds.sort()).toEqual([a, d].sort())
  })

  it('no events for rejected requests or no-op writes', async () => {
    const id = await createUser('quiet', { title: 'T', active: true })
    const g = (await c.post('/Groups', { schemas: [GROUP], displayName: 'Q', members: [{ value: id }] })).body.id
    events.length = 0
    expectError(await c.post('/Users', { schemas: [USER], userName: 'quiet' }), 409, 'uniqueness')
    expectError(await c.post('/Users', { schemas: [USER] }), 400, 'invalidValue')
    expectError(await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'title', value: 'X' })).set('If-Match', 'W/"stale"'), 412)
    expect((await c.patch(`/Users/${id}`, patch({ op: 'bogus', path: 'title', value: 'X' }))).status).toBe(400)
    expect((await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'title', value: 'X' }, { op: 'remove', path: 'userName' }))).status).toBe(400)
    expectError(await c.delete('/Users/00000000-0000-4000-8000-000000000000'), 404)
    expectError(await c.delete(`/Users/${id}`).set('If-Match', 'W/"stale"'), 412)
    expect((await c.post('/Users', 'not json')).status).toBe(400)
    // no-ops
    expect((await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'title', value: 'T' }))).status).toBe(200)
    expect((await c.put(`/Users/${id}`, { schemas: [USER], userName: 'quiet', title: 'T', active: true })).status).toBe(200)
    expect((await c.patch(`/Groups/${g}`, patch({ op: 'add', path: 'members', value: [{ value: id }] }))).status).toBe(204)
    expect((await c.patch(`/Users/${id}`, patch({ op: 'replace', value: { active: true } }))).status).toBe(200)
    // a failed bulk operation
    const bulk = await c.post('/Bulk', { schemas: [BULK_REQUEST], Operations: [{ method: 'POST', path: '/Users', bulkId: 'x', data: { schemas: [USER], userName: 'quiet' } }] })
    expect(bulk.body.Operations[0].status).toBe('409')
    expect(events).toEqual([])
  })

  it('RES-065: deactivation keeps group membership; no membership events', async () => {
    const id = await createUser('member', { active: true })
    const g = (await c.post('/Groups', { schemas: [GROUP], displayName: 'Kept', members: [{ value: id }] })).body.id
    events.length = 0
    await c.patch(`/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' }))
    expect(types(events)).toEqual(['user.updated', 'user.deactivated', 'user.deprovisioned'])
    expect((await c.get(`/Groups/${g}`)).body.members.map((m: any) => m.value)).toEqual([id])
    const user = await c.get(`/Users/${id}`)
    expect(user.body.active).toBe(false)
    expect(user.body.groups.map((x: any) => x.value)).toEqual([g])
    // still found by active eq false
    const found = await c.get(`/Users?filter=${encodeURIComponent('active eq false')}`)
    expect(found.body.Resources.map((r: any) => r.id)).toEqual([id])
    await c.put(`/Users/${id}`, { schemas: [USER], userName: 'member', active: false, title: 'x' })
    expect((await c.get(`/Groups/${g}`)).body.members).toHaveLength(1)
    events.length = 0
    await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'active', value: true }))
    expect(types(events)).toEqual(['user.updated', 'user.reactivated'])
    expect((await c.get(`/Users/${id}`)).body.groups.map((x: any) => x.value)).toEqual([g])
  })

  it('Bulk emits the same events as the same work done as single requests', async () => {
    const run = async (viaBulk: boolean): Promise<string[]> => {
      const evs: ScimEvent[] = []
      const cc = client(v, makeApp(v, { onEvent: (e: ScimEvent) => void evs.push(e), bulk: true }))
      const u = (await cc.post('/Users', { schemas: [USER], userName: 'pre', active: true })).body.id
      const g = (await cc.post('/Groups', { schemas: [GROUP], displayName: 'pre', members: [{ value: u }] })).body.id
      evs.length = 0
      const steps: [string, string, unknown][] = [
        ['POST', '/Users', { schemas: [USER], userName: 'new', active: true }],
        ['PATCH', `/Users/${u}`, patch({ op: 'replace', value: { active: false } })],
        ['PATCH', `/Users/${u}`, patch({ op: 'replace', path: 'active', value: 'True' })],
        ['PUT', `/Users/${u}`, { schemas: [USER], userName: 'pre', active: false }],
        ['PATCH', `/Groups/${g}`, patch({ op: 'remove', path: `members[value eq "${u}"]` })],
        ['PATCH', `/Groups/${g}`, patch({ op: 'add', path: 'members', value: [{ value: u }] })],
        ['DELETE', `/Users/${u}`, undefined],
        ['DELETE', `/Groups/${g}`, undefined],
      ]
      if (viaBulk) {
        const res = await cc.post('/Bulk', {
          schemas: [BULK_REQUEST],
          Operations: steps.map(([method, path, data], i) => ({ method, path, ...(method === 'POST' ? { bulkId: `b${i}` } : {}), ...(data ? { data } : {}) })),
        })
        expect(res.body.Operations.map((o: any) => Number(o.status) < 300)).toEqual(steps.map(() => true))
      } else {
        for (const [method, path, data] of steps) {
          const r =
            method === 'POST' ? await cc.post(path, data) : method === 'PUT' ? await cc.put(path, data) : method === 'PATCH' ? await cc.patch(path, data) : await cc.delete(path)
          expect(r.status).toBeLessThan(300)
        }
      }
      return evs.map((e) => `${e.type}:${e.resourceType}:${'reason' in e ? e.reason : ''}:${'memberIds' in e ? e.memberIds.length : ''}`)
    }
    const single = await run(false)
    const bulk = await run(true)
    expect(bulk).toEqual(single)
    expect(single).toContain('user.deprovisioned:User:deactivated:')
    expect(single).toContain('user.deprovisioned:User:deleted:')
  })

  it('Bulk with bulkId references emits created events with the resolved ids', async () => {
    const res = await c.post('/Bulk', {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'B', members: [{ value: 'bulkId:u' }] } },
        { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [USER], userName: 'bu' } },
      ],
    })
    const [g, u] = res.body.Operations.map((o: any) => o.response.id)
    expect(types(events)).toEqual(['user.created', 'group.created', 'group.members.added'])
    expect(events[0]!.id).toBe(u)
    expect(events[1]!.id).toBe(g)
    expect((events[2] as any).memberIds).toEqual([u])
  })
})

describe.each(VARIANTS)('Lifecycle events, context and delivery: $name', (v) => {
  it('events carry ctx and tenant', async () => {
    const events: ScimEvent[] = []
    const c = client(v, makeApp(v, { authenticate: bearerToken({ [`good-token`]: { tenant: 'acme' } }), onEvent: (e: ScimEvent) => void events.push(e) }))
    const id = (await c.post('/Users', { schemas: [USER], userName: 't' })).body.id
    await c.delete(`/Users/${id}`)
    expect(events).toHaveLength(3)
    for (const e of events) {
      expect(e.tenant).toBe('acme')
      expect(e.ctx).toMatchObject({ tenant: 'acme', principal: { tenant: 'acme' } })
    }
  })

  it('a custom context is passed through; tenant is set only when ctx.tenant is a string', async () => {
    const events: ScimEvent[] = []
    const c = client(v, makeApp(v, { context: () => ({ org: 42 }), onEvent: (e: ScimEvent) => void events.push(e) }))
    await c.post('/Users', { schemas: [USER], userName: 'ctx' })
    expect(events[0]!.ctx).toEqual({ org: 42 })
    expect(events[0]).not.toHaveProperty('tenant')
  })

  it.each([
    ['throws', () => {
      throw new Error('hook exploded')
    }],
    ['rejects', async () => {
      throw new Error('hook rejected')
    }],
  ])('a hook that %s does not change the response and the change stays committed', async (_name, hook) => {
    for (const awaitEvents of [true, false]) {
      const c = client(v, makeApp(v, { onEvent: hook, awaitEvents }))
      const created = await c.post('/Users', { schemas: [USER], userName: 'boom', active: true })
      expect(created.status).toBe(201)
      const id = created.body.id
      const patched = await c.patch(`/Users/${id}`, patch({ op: 'replace', value: { active: false } }))
      expect(patched.status).toBe(200)
      expect(patched.body.active).toBe(false)
      expect((await c.get(`/Users/${id}`)).body.active).toBe(false)
      expect((await c.delete(`/Users/${id}`)).status).toBe(204)
      expect((await c.get(`/Users/${id}`)).status).toBe(404)
    }
  })

  it('without an outbox (delivery once, after the commit) a throwing hook does not stop later events of the same change', async () => {
    const seen: string[] = []
    const c = client(
      v,
      makeApp(
        v,
        {
          onEvent: (e: ScimEvent) => {
            seen.push(e.type)
            if (e.type === 'user.updated') throw new Error('first one fails')
          },
        },
        new MemoryAdapter({ outbox: false }),
      ),
    )
    const id = (await c.post('/Users', { schemas: [USER], userName: 'x', active: true })).body.id
    await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))
    expect(seen).toEqual(['user.created', 'user.updated', 'user.deactivated', 'user.deprovisioned'])
  })

  it('awaitEvents (default true): the response waits for an async hook', async () => {
    let revoked = false
    const c = client(
      v,
      makeApp(v, {
        onEvent: async (e: ScimEvent) => {
          if (e.type !== 'user.deprovisioned') return
          await new Promise((r) => setTimeout(r, 50))
          revoked = true
        },
      }),
    )
    const id = (await c.post('/Users', { schemas: [USER], userName: 'w', active: true })).body.id
    const res = await c.patch(`/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' }))
    expect(res.status).toBe(200)
    expect(revoked).toBe(true)
  })

  it('awaitEvents false: the response does not wait; the hook still runs', async () => {
    let done = false
    let release: () => void = () => undefined
    const finished = new Promise<void>((r) => (release = r))
    const c = client(
      v,
      makeApp(v, {
        awaitEvents: false,
        onEvent: async (e: ScimEvent) => {
          if (e.type !== 'user.deprovisioned') return
          await new Promise((r) => setTimeout(r, 50))
          done = true
          release()
        },
      }),
    )
    const id = (await c.post('/Users', { schemas: [USER], userName: 'nw', active: true })).body.id
    const res = await c.patch(`/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))
    expect(res.status).toBe(200)
    expect(done).toBe(false)
    await finished
    expect(done).toBe(true)
  })
})
