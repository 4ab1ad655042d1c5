// Compiled by test/unit/principal-types.test.ts under `strict` (issue 11 item 14): written as a
// user writes it, inline, the principal handed to `context` and `me` has the type of the
// principals in the token map. Each @ts-expect-error line proves the type is not `any`.
import { IncomingMessage } from 'node:http'
import { bearerToken, headerToken, MemoryAdapter, scimRouter } from '../../src'

const tokenA = 'token-a'
const tokenB = 'token-b'

// The TSDoc example of bearerToken().
scimRouter(new MemoryAdapter(), {
  authenticate: bearerToken({ [tokenA]: { tenant: 'a' }, [tokenB]: { tenant: 'b' } }),
  context: (req, principal) => {
    const tenant: string = principal.tenant
    // @ts-expect-error the principal is { tenant: string }, not any
    const wrong: number = principal.tenant
    void req, wrong
    return { tenant }
  },
  me: (principal) => principal.tenant,
})

scimRouter(new MemoryAdapter(), {
  authenticate: headerToken('x-api-key', { [tokenA]: { org: 'acme', admin: true } }),
  context: (_req: IncomingMessage, principal) => {
    const admin: boolean | undefined = 'admin' in principal ? principal.admin : undefined
    // @ts-expect-error not any: no such property
    void principal.nope
    return { tenant: 'org' in principal ? principal.org : 'none', admin }
  },
})

// One token: the principal is { token: number }.
scimRouter(new MemoryAdapter(), {
  authenticate: bearerToken(tokenA),
  context: (_req, principal) => ({ tenant: `t${principal.token.toFixed(0)}` }),
})
