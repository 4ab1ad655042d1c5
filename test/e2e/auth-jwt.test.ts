/** AUTH-001/005: JWT access tokens verified against a JWKS (static, or fetched from a loopback URL). */
import { createServer, type Server } from 'node:http'
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
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

/** A compact JWS with any header, signed by `signer` over `header.payload`. */
function signed(header: Record<string, unknown>, claims: Record<string, unknown>, signer: (input: Buffer) => Buffer): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const input = `${enc(header)}.${enc(claims)}`
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`
}
const rsa = (key: KeyObject, hash = 'sha256') => (input: Buffer) => sign(hash, input, key)
const ecdsa = (key: KeyObject, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363') => (input: Buffer) => sign('sha256', input, { key, dsaEncoding })

function ecPair(kid: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' } }
}
const ec = ecPair('e1')

describe('jwtBearer: key selection bound to alg, crit and typ (RFC 7515 §4.1, RFC 7517 §4, RFC 8725 §3.1/§3.11)', () => {
  const v = VARIANTS[3]!
  const good = () => ({ iss: ISS, aud: AUD, sub: 'svc', exp: now() + 600 })
  const appWith = (keys: unknown[], extra: Record<string, unknown> = {}) =>
    makeApp(v, { authenticate: jwtBearer({ jwks: { keys: keys as never }, issuer: ISS, audience: AUD, ...extra }) })
  const status = async (app: ReturnType<typeof makeApp>, token: string) =>
    (await request(app).get(`${v.mount}/Users`).set('Authorization', `Bearer ${token}`)).status

  it('RFC 7517 §4.5: a token without kid is accepted when exactly the keys of its type are tried', async () => {
    const app = appWith([k1.jwk, ec.jwk])
    expect(await status(app, signed({ alg: 'ES256', typ: 'JWT' }, good(), ecdsa(ec.privateKey)))).toBe(200)
    expect(await status(app, signed({ alg: 'RS256', typ: 'JWT' }, good(), rsa(k1.privateKey)))).toBe(200)
    // Two RSA keys and no kid: each is tried; only the signing one verifies.
    const two = appWith([k1.jwk, k2.jwk])
    expect(await status(two, signed({ alg: 'RS256' }, good(), rsa(k2.privateKey)))).toBe(200)
    expect(await status(two, signed({ alg: 'RS256' }, good(), rsa(other.privateKey)))).toBe(401)
  })

  it('RFC 8725 §3.1: alg is bound to the key type and to the JWK\'s own alg', async () => {
    const app = appWith([k1.jwk, ec.jwk])
    // An ECDSA signature presented as RS256 under the EC key's kid (node would verify it as ECDSA).
    expect(await status(app, signed({ alg: 'RS256', kid: 'e1' }, good(), ecdsa(ec.privateKey, 'der')))).toBe(401)
    expect(await status(app, signed({ alg: 'ES256', kid: 'k1' }, good(), ecdsa(ec.privateKey)))).toBe(401)
    // HS256 keyed with the RSA public key (key confusion) and alg none.
    const pem = Buffer.from(JSON.stringify(k1.jwk))
    expect(await status(app, signed({ alg: 'HS256', kid: 'k1' }, good(), (i) => createHmac('sha256', pem).update(i).digest()))).toBe(401)
    expect(await status(app, signed({ alg: 'none', kid: 'k1' }, good(), () => Buffer.alloc(0)))).toBe(401)
    // The other asymmetric algorithms, each with its own key type.
    const ed = generateKeyPairSync('ed25519')
    const ps = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const more = appWith([{ ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed' }, { ...ps.publicKey.export({ format: 'jwk' }), kid: 'ps' }])
    expect(await status(more, signed({ alg: 'EdDSA', kid: 'ed' }, good(), (i) => sign(null, i, ed.privateKey)))).toBe(200)
    const pss = (i: Buffer) => sign('sha384', i, { key: ps.privateKey, padding: 6, saltLength: 48 })
    expect(await status(more, signed({ alg: 'PS384', kid: 'ps' }, good(), pss))).toBe(200)
    expect(await status(more, signed({ alg: 'EdDSA', kid: 'ps' }, good(), (i) => sign(null, i, ed.privateKey)))).toBe(401)
    // The JWK says RS512: an RS256 token under that key is refused, an RS512 one accepted.
    const pinned = appWith([{ ...k1.jwk, alg: 'RS512' }])
    expect(await status(pinned, signed({ alg: 'RS256', kid: 'k1' }, good(), rsa(k1.privateKey)))).toBe(401)
    expect(await status(pinned, signed({ alg: 'RS512', kid: 'k1' }, good(), rsa(k1.privateKey, 'sha512')))).toBe(200)
  })

  it('RFC 7515 §4.1.11: a token with a crit extension is refused (none is understood)', async () => {
    const app = appWith([k1.jwk])
    expect(await status(app, signed({ alg: 'RS256', kid: 'k1', crit: ['urn:example:ext'], 'urn:example:ext': 1 }, good(), rsa(k1.privateKey)))).toBe(401)
    expect(await status(app, signed({ alg: 'RS256', kid: 'k1', crit: [] }, good(), rsa(k1.privateKey)))).toBe(401)
    expect(await status(app, signed({ alg: 'RS256', kid: 'k1' }, good(), rsa(k1.privateKey)))).toBe(200)
  })

  it('RFC 8725 §3.11: typ is absent, JWT or at+jwt by default; the typ option requires one type', async () => {
    const app = appWith([k1.jwk])
    const withTyp = (typ?: string) => signed({ alg: 'RS256', kid: 'k1', ...(typ === undefined ? {} : { typ }) }, good(), rsa(k1.privateKey))
    for (const typ of [undefined, 'JWT', 'at+jwt', 'application/at+JWT']) expect([typ, await status(app, withTyp(typ))]).toEqual([typ, 200])
    for (const typ of ['logout+jwt', 'dpop+jwt', 'secevent+jwt']) expect([typ, await status(app, withTyp(typ))]).toEqual([typ, 401])
    const strict = appWith([k1.jwk], { typ: 'at+jwt' })
    expect(await status(strict, withTyp('at+jwt'))).toBe(200)
    expect(await status(strict, withTyp('application/AT+JWT'))).toBe(200)
    for (const typ of [undefined, 'JWT']) expect([typ, await status(strict, withTyp(typ))]).toEqual([typ, 401])
  })
})

describe('jwtBearer: an unavailable JWKS is 503 with Retry-After, never a hang (AUTH-008, IDP-004)', () => {
  const v = VARIANTS[3]!
  const claims = () => ({ iss: ISS, aud: AUD, sub: 'svc', exp: now() + 600 })
  let mode: 'serve' | 'hang' | 'error' = 'serve'
  let hits = 0
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++
      if (mode === 'hang') return // never answers
      if (mode === 'error') {
        res.statusCode = 500
        res.end('down')
        return
      }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys: [k1.jwk] }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`
  })
  afterAll(() => {
    server.closeAllConnections()
    return new Promise<void>((r) => server.close(() => r()))
  })
  beforeEach(() => {
    mode = 'serve'
    hits = 0
  })
  const get = (app: ReturnType<typeof makeApp>, token: string) => request(app).get(`${v.mount}/Users`).set('Authorization', `Bearer ${token}`)
  const make = () => makeApp(v, { authenticate: jwtBearer({ jwks: url, issuer: ISS, audience: AUD, jwksTimeout: 100, refreshSeconds: 0 }) })

  it('RFC 7517 §4.5: with a JWKS URL, a token without kid is accepted when one key matches', async () => {
    expect((await get(make(), signed({ alg: 'RS256', typ: 'JWT' }, claims(), rsa(k1.privateKey)))).status).toBe(200)
    expect(hits).toBe(1)
  })

  it('a JWKS that never answers: 503 with Retry-After after jwksTimeout', async () => {
    mode = 'hang'
    const r = await get(make(), jwt(k1.privateKey, 'k1', claims()))
    expectError(r, 503)
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
    expect(hits).toBe(1)
  })

  it('a JWKS answering 500, or refusing connections: 503', async () => {
    mode = 'error'
    expectError(await get(make(), jwt(k1.privateKey, 'k1', claims())), 503)
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as { port: number }).port
    await new Promise<void>((r) => closed.close(() => r()))
    const refused = makeApp(v, { authenticate: jwtBearer({ jwks: `http://127.0.0.1:${port}/jwks`, issuer: ISS, audience: AUD, jwksTimeout: 100 }) })
    expectError(await get(refused, jwt(k1.privateKey, 'k1', claims())), 503)
  })

  it('keys already fetched keep working while the JWKS is down; only an unknown kid needs it (503)', async () => {
    const app = make()
    expect((await get(app, jwt(k1.privateKey, 'k1', claims()))).status).toBe(200)
    mode = 'hang'
    expect((await get(app, jwt(k1.privateKey, 'k1', claims()))).status).toBe(200)
    expect(hits).toBe(1)
    expectError(await get(app, jwt(k2.privateKey, 'k2', claims())), 503)
    expect(hits).toBe(2)
    // A token that fails on its own (expired) is 401 without asking the JWKS.
    expectError(await get(app, jwt(k1.privateKey, 'k1', { ...claims(), exp: now() - 3600 })), 401)
    expect(hits).toBe(2)
  })

  it('jwtBearer() options are checked at once', () => {
    expect(() => jwtBearer({ jwks: 'ftp://example.com/jwks', issuer: ISS, audience: AUD })).toThrow(TypeError)
    expect(() => jwtBearer({ jwks: 'not a url', issuer: ISS, audience: AUD })).toThrow(TypeError)
    expect(() => jwtBearer({ jwks: url, issuer: ISS, audience: AUD, jwksTimeout: 0 })).toThrow(TypeError)
    expect(() => jwtBearer({ jwks: { keys: [] }, issuer: ISS, audience: AUD })).toThrow(TypeError)
    expect(() => jwtBearer({ jwks: { keys: [k1.jwk] }, issuer: [], audience: AUD })).toThrow(TypeError)
  })
})
