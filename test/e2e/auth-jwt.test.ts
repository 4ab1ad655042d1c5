/** AUTH-001/005: JWT access tokens verified against a JWKS (static, or fetched from a loopback URL). */
import { createServer, type Server } from 'node:http'
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import request from 'supertest'
import { jwtBearer } from '../../src'
import { VARIANTS, expectError, makeApp } from './harness'

const ISS = 'https://sts.example.com/tenant-1/'
const AUD = '8adf8e6e-67b2-4cf2-a259-e3dc5476c621'

function keyPair(kid: string) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } }
}

function jwt(key: KeyObject, kid: string, claims: Record<string, unknown>, alg = 'RS256'): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const head = enc({ alg, typ: 'JWT', kid })
  const body = enc(claims)
  const sig = alg === 'none' ? '' : sign('sha256', Buffer.from(`${head}.${body}`), key).toString('base64url')
  return `${head}.${body}.${sig}`
}

const now = () => Math.floor(Date.now() / 1000)
const k1 = keyPair('k1')
const k2 = keyPair('k2')
const other = keyPair('k1') // same kid, different key: a forgery

describe.each(VARIANTS)('jwtBearer: $name', (v) => {
  const app = makeApp(v, { authenticate: jwtBearer({ jwks: { keys: [k1.jwk] }, issuer: ISS, audience: AUD }) })
  const get = (token: string) => request(app).get(`${v.mount}/Users`).set('Authorization', `Bearer ${token}`)
  const good = { iss: ISS, aud: AUD, sub: 'entra', exp: now() + 600 }

  it('a valid token passes', async () => {
    expect((await get(jwt(k1.privateKey, 'k1', good))).status).toBe(200)
  })

  it.each([
    ['expired', { ...good, exp: now() - 3600 }],
    ['not yet valid', { ...good, nbf: now() + 3600 }],
    ['another issuer', { ...good, iss: 'https://evil.example/' }],
    ['another audience', { ...good, aud: 'someone-else' }],
    ['no exp', { iss: ISS, aud: AUD }],
  ])('%s → 401 invalid_token', async (_n, claims) => {
    const r = await get(jwt(k1.privateKey, 'k1', claims))
    expectError(r, 401)
    expect(r.headers['www-authenticate']).toContain('error="invalid_token"')
  })

  it('a forged signature, alg none and garbage → 401', async () => {
    expectError(await get(jwt(other.privateKey, 'k1', good)), 401)
    expectError(await get(jwt(k1.privateKey, 'k1', good, 'none') + 'x'), 401)
    const [h, b] = jwt(k1.privateKey, 'k1', good).split('.')
    expectError(await get(`${h}.${b}.AAAA`), 401)
    expectError(await get('not.a.jwt'), 401)
  })
})

describe('jwtBearer with a JWKS URL', () => {
  let server: Server
  let served: unknown[] = [k1.jwk]
  let fetches = 0
  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys: served }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('fetches keys, picks up a rotated key on an unknown kid, and rate-limits refreshes', async () => {
    const { port } = server.address() as { port: number }
    const v = VARIANTS[3]!
    const app = makeApp(v, { authenticate: jwtBearer({ jwks: `http://127.0.0.1:${port}/jwks`, issuer: ISS, audience: AUD, refreshSeconds: 0 }) })
    const claims = { iss: ISS, aud: [AUD, 'other'], exp: now() + 600 }
    const get = (token: string) => request(app).get(`${v.mount}/Users`).set('Authorization', `Bearer ${token}`)
    expect((await get(jwt(k1.privateKey, 'k1', claims))).status).toBe(200)
    served = [k1.jwk, k2.jwk]
    expect((await get(jwt(k2.privateKey, 'k2', claims))).status).toBe(200)
    expect(fetches).toBe(2)
    const limited = makeApp(v, { authenticate: jwtBearer({ jwks: `http://127.0.0.1:${port}/jwks`, issuer: ISS, audience: AUD, refreshSeconds: 3600 }) })
    const before = fetches
    for (let i = 0; i < 3; i++) {
      expectError(await request(limited).get(`${v.mount}/Users`).set('Authorization', `Bearer ${jwt(k2.privateKey, 'unknown-kid', claims)}`), 401)
    }
    expect(fetches - before).toBe(1)
  })
})
