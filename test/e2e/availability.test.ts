/** Storage failures and slowness (AUTH-008, ERR-031), discovery aliases (EP-003, DSC-012). */
import { MemoryAdapter, ServiceUnavailableError, TooManyRequestsError } from '../../src'
import { USER, VARIANTS, client, expectError, makeApp } from './harness'

class SlowAdapter extends MemoryAdapter {
  delay = 0
  override async get(...args: Parameters<MemoryAdapter['get']>) {
    if (this.delay) await new Promise((r) => setTimeout(r, this.delay))
    return super.get(...args)
  }
}

class ThrottlingAdapter extends MemoryAdapter {
  override async list(): Promise<never> {
    throw new TooManyRequestsError(7)
  }
}

class DownAdapter extends MemoryAdapter {
  override async get(): Promise<never> {
    throw new ServiceUnavailableError(3, 'Database unavailable')
  }
}

describe.each(VARIANTS)('availability: $name', (v) => {
  it('AUTH-008: storage slower than adapterTimeout gets 503 with Retry-After; the router keeps serving', async () => {
    const adapter = new SlowAdapter()
    const c = client(v, makeApp(v, { adapterTimeout: 50 }, adapter))
    const u = await c.post('/Users', { schemas: [USER], userName: 'slow' })
    adapter.delay = 300
    const slow = await c.get(`/Users/${u.body.id}`)
    expectError(slow, 503)
    expect(slow.headers['retry-after']).toBe('5')
    adapter.delay = 0
    expect((await c.get(`/Users/${u.body.id}`)).status).toBe(200)
  })

  it('ERR-031: an adapter throttle is 429 with Retry-After; an outage 503', async () => {
    const t = client(v, makeApp(v, {}, new ThrottlingAdapter()))
    const r = await t.get('/Users')
    expectError(r, 429)
    expect(r.headers['retry-after']).toBe('7')
    const d = client(v, makeApp(v, {}, new DownAdapter()))
    const down = await d.get('/Users/x')
    expectError(down, 503)
    expect(down.body.detail).toBe('Database unavailable')
  })

  it('EP-003/DSC-012: /ServiceProviderConfigs and /serviceConfiguration serve the same document', async () => {
    const c = client(v, makeApp(v, { baseUrl: 'https://scim.example.com/v2' }))
    const spc = await c.get('/ServiceProviderConfig')
    for (const alias of ['/ServiceProviderConfigs', '/serviceConfiguration']) {
      const r = await c.get(alias)
      expect(r.status).toBe(200)
      expect(r.body).toEqual(spc.body)
    }
  })
})
