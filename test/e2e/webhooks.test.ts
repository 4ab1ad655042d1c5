/**
 * Issue 13 item 4: webhooks signed per the Standard Webhooks specification, to per-tenant URLs,
 * retried on failure (the outbox's backoff), dead after maxAttempts, redelivered on request.
 */
import { createHmac, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import request from 'supertest'
import { bearerToken, scimRouter, signWebhook, webhookSender, type ScimRouter } from '../../src'
import { STORE_HAS_OUTBOX, USER, defaultAdapter } from './harness'

// The durable-delivery suites need a store with an outbox: MemoryAdapter and the Kysely adapter
// both have one. A store without one gets the after-commit fallback that `event outbox retention
// and capability` below pins.
const DURABLE = STORE_HAS_OUTBOX
const describeDurable = DURABLE ? describe : describe.skip

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Hit {
  headers: http.IncomingHttpHeaders
  body: string
}

async function receiver(status: () => number): Promise<{ url: string; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.statusCode = status()
      res.end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits, close: () => new Promise((r) => server.close(() => r())) }
}

describeDurable('webhooks (issue 13, Standard Webhooks)', () => {
  it('signWebhook matches the specification example', () => {
    expect(signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    )
    expect(() => signWebhook('nope', 'i', 1, 'b')).toThrow(TypeError)
  })

  it('POSTs signed events to the tenant URL; a 500 is retried with the same webhook-id; dead after maxAttempts; redeliver sends again', async () => {
    let code = 500
    const acme = await receiver(() => code)
    const secret = `whsec_${randomBytes(24).toString('base64')}`
    const router = scimRouter(defaultAdapter(), {
      authenticate: bearerToken('t'),
      context: (req) => ({ tenant: String(req.headers['x-tenant']) }),
      onEvent: webhookSender({ endpoint: (tenant) => (tenant === 'acme' ? { url: acme.url, secret } : undefined), types: ['user.deprovisioned'] }),
      eventDelivery: { dispatcher: false, backoff: { initialMs: 1, maxMs: 2 }, maxAttempts: 3, handlerTimeout: 2000, leaseMs: 10_000 },
    }) as ScimRouter<any>
    const app = express().use(router)
    const send = (tenant: string, method: 'post' | 'patch', path: string, body: unknown) =>
      request(app)[method](path).set('Authorization', 'Bearer t').set('X-Tenant', tenant).set('Content-Type', 'application/scim+json').send(JSON.stringify(body))
    const u = await send('acme', 'post', '/Users', { schemas: [USER], userName: 'hooked', active: true })
    const other = await send('beta', 'post', '/Users', { schemas: [USER], userName: 'unhooked', active: true })
    const off = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }
    expect((await send('acme', 'patch', `/Users/${u.body.id}`, off)).status).toBe(200) // a failing webhook is not the IdP's error
    expect((await send('beta', 'patch', `/Users/${other.body.id}`, off)).status).toBe(200)
    for (let i = 0; i < 200 && (await router.events.list({ state: 'dead' }, { tenant: 'acme' })).events.length === 0; i++) {
      await sleep(3)
      await router.events.poll()
    }
    expect(acme.hits).toHaveLength(3) // maxAttempts, then dead
    const ids = new Set(acme.hits.map((h) => h.headers['webhook-id']))
    expect(ids.size).toBe(1)
    for (const h of acme.hits) {
      const sig = `v1,${createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${h.headers['webhook-id']}.${h.headers['webhook-timestamp']}.${h.body}`).digest('base64')}`
      expect(h.headers['webhook-signature']).toBe(sig)
      expect(h.headers['content-type']).toBe('application/json')
      expect(JSON.parse(h.body)).toMatchObject({ type: 'user.deprovisioned', data: { id: u.body.id, reason: 'deactivated', tenant: 'acme' } })
    }
    const [dead] = (await router.events.list({ state: 'dead' }, { tenant: 'acme' })).events
    expect(dead).toMatchObject({ id: [...ids][0], lastError: expect.stringContaining('answered 500') })
    code = 204
    expect(await router.events.redeliver([dead!.id], { tenant: 'acme' })).toBe(1)
    await router.events.poll()
    expect(acme.hits).toHaveLength(4)
    expect(acme.hits[3]?.headers['webhook-id']).toBe(dead!.id)
    expect((await router.events.list({}, { tenant: 'acme' })).events.find((e) => e.id === dead!.id)?.state).toBe('delivered')
    expect((await router.events.list({}, { tenant: 'beta' })).events.every((e) => e.state === 'delivered')).toBe(true) // no URL: nothing sent
    await acme.close()
  })
})
