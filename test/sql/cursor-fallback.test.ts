/** SqlAdapter's in-memory cursor fallback (a sort SQL cannot express: the derived groups.display). */
import express from 'express'
import request from 'supertest'
import { scimRouter } from '../../src'
import { SqlAdapter } from '../../examples/sql-adapter'

it('RFC 9865 keyset pages sorted by groups.display cover every user once, in order, with previousCursor', async () => {
  const app = express()
  app.use(scimRouter(SqlAdapter.sqlite(':memory:'), { authenticate: 'none' }))
  const ids: Record<string, string> = {}
  for (const n of ['u1', 'u2', 'u3', 'u4', 'u5']) ids[n] = (await request(app).post('/Users').send({ userName: n })).body.id
  await request(app).post('/Groups').send({ displayName: 'Zeta', members: [{ value: ids['u1'] }] })
  await request(app).post('/Groups').send({ displayName: 'Alpha', members: [{ value: ids['u2'] }, { value: ids['u4'] }] })
  await request(app).post('/Groups').send({ displayName: 'Mid', members: [{ value: ids['u3'] }] })
  const seen: string[] = []
  let cursor = ''
  let pages = 0
  let prev: string | undefined
  do {
    const r = await request(app).get(`/Users?sortBy=groups.display&cursor=${cursor}&count=2`)
    expect(r.status).toBe(200)
    expect(r.body.totalResults).toBe(5)
    if (pages === 0) expect(r.body).not.toHaveProperty('previousCursor')
    else prev = r.body.previousCursor
    seen.push(...r.body.Resources.map((u: { userName: string }) => u.userName))
    cursor = r.body.nextCursor ?? ''
    pages++
  } while (cursor && pages < 10)
  // Alpha (u2, u4), Mid (u3), Zeta (u1), then u5 without groups (missing values last).
  expect(seen).toEqual(['u2', 'u4', 'u3', 'u1', 'u5'])
  const back = await request(app).get(`/Users?sortBy=groups.display&cursor=${prev}&count=2`)
  expect(back.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['u3', 'u1'])
})
