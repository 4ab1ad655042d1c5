/** AUTH-001/002, DSC-011: the HTTP Basic and custom-header strategies. */
import request from 'supertest'
import { basicAuth, headerToken } from '../../src'
import { USER, VARIANTS, expectError, makeApp } from './harness'

describe.each(VARIANTS)('authentication strategies: $name', (v) => {
  it('basicAuth: right credentials pass, wrong ones get 401 with a Basic challenge; SPC says httpbasic', async () => {
    const app = makeApp(v, { authenticate: basicAuth({ okta: 'pa:ss' }) })
    const good = 'Basic ' + Buffer.from('okta:pa:ss').toString('base64')
    const ok = await request(app).post(`${v.mount}/Users`).set('Authorization', good).send({ schemas: [USER], userName: 'basic' })
    expect(ok.status).toBe(201)
    for (const bad of ['Basic ' + Buffer.from('okta:nope').toString('base64'), 'Bearer pa:ss', 'Basic !!!', '']) {
      const r = await request(app).get(`${v.mount}/Users`).set('Authorization', bad)
      expectError(r, 401)
      expect(r.headers['www-authenticate']).toMatch(/^Basic realm="scim"/)
    }
    const spc = await request(app).get(`${v.mount}/ServiceProviderConfig`)
    expect(spc.body.authenticationSchemes).toEqual([expect.objectContaining({ type: 'httpbasic', name: 'HTTP Basic', primary: true })])
  })

  it('headerToken: the token in the named header (with or without Bearer) passes; elsewhere it does not', async () => {
    const app = makeApp(v, { authenticate: headerToken('X-API-Key', { k1: { tenant: 'a' } }) })
    expect((await request(app).get(`${v.mount}/Users`).set('X-API-Key', 'k1')).status).toBe(200)
    expect((await request(app).get(`${v.mount}/Users`).set('x-api-key', 'Bearer k1')).status).toBe(200)
    expectError(await request(app).get(`${v.mount}/Users`).set('Authorization', 'Bearer k1'), 401)
    expectError(await request(app).get(`${v.mount}/Users`).set('X-API-Key', 'k2'), 401)
    const spc = await request(app).get(`${v.mount}/ServiceProviderConfig`)
    expect(spc.body.authenticationSchemes[0]).toMatchObject({ type: 'apikey', primary: true })
  })

  it('strategies refuse bad configuration at startup', () => {
    expect(() => basicAuth({})).toThrow(TypeError)
    expect(() => basicAuth({ 'a:b': 'x' })).toThrow(TypeError)
    expect(() => headerToken('bad header', 'x')).toThrow(TypeError)
    expect(() => headerToken('X-Key', [])).toThrow(TypeError)
  })
})
