/**
 * Runnable example: an Express 5 app serving SCIM 2.0 at /scim/v2.
 *
 *   npm run example                    # 127.0.0.1:8080, token printed
 *   PORT=9000 SCIM_TOKEN=secret npm run example
 *
 * Point an IdP (Entra ID, Okta, ...) at http://127.0.0.1:$PORT/scim/v2 with the bearer token.
 */
import { randomBytes } from 'node:crypto'
import express from 'express'
import { MemoryAdapter, bearerToken, scimRouter } from '../src'

const port = Number(process.env.PORT ?? 8080)
const host = process.env.HOST ?? '127.0.0.1'
const generated = !process.env.SCIM_TOKEN
const token = process.env.SCIM_TOKEN || randomBytes(24).toString('base64url')

const app = express()
app.disable('x-powered-by')
app.get('/healthz', (_req, res) => {
  res.json({ ok: true })
})
app.use(
  '/scim/v2',
  scimRouter(new MemoryAdapter(), {
    authenticate: bearerToken(token),
    ...(process.env.SCIM_BASE_URL ? { baseUrl: process.env.SCIM_BASE_URL } : {}),
  }),
)

const server = app.listen(port, host, () => {
  const url = `http://${host}:${port}/scim/v2`
  console.log(`SCIM server ready at ${url}`)
  console.log(generated ? `Bearer token (generated; set SCIM_TOKEN to choose one): ${token}` : 'Bearer token: from $SCIM_TOKEN')
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)))
}
