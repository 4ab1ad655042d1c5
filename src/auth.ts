/**
 * Authentication helpers. The router calls `options.authenticate(req)` before every endpoint
 * (discovery excepted when `publicDiscovery` is on, RFC 7643 §5); a falsy result or a thrown
 * `UnauthorizedError` answers 401 with `WWW-Authenticate` (RFC 7235 §3.1); any other `ScimError` is
 * answered as it is; anything else thrown (its backend is down) is 503 with `Retry-After`.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/**
 * Authenticates a request: resolve to a principal, or to `null`/`undefined`/`false` for "not
 * authenticated" (401). Throw a `ForbiddenError` for "authenticated but not allowed" (403). When
 * the credential cannot be checked (its store or identity provider is unavailable), throw or
 * reject: anything that is not a `ScimError` answers 503 with `Retry-After`, so that the client
 * retries instead of treating a good credential as revoked.
 * @typeParam P - the principal type handed to `context`.
 */
export type Authenticate<P> = (req: IncomingMessage) => P | null | undefined | false | Promise<P | null | undefined | false>


/** An RFC 7643 §5 `authenticationSchemes` entry. */
export interface AuthenticationScheme {
  type: string
  name: string
  description: string
  specUri?: string
  documentationUri?: string
  primary?: boolean
}

/** Marks an authenticate function with the scheme it implements, for `/ServiceProviderConfig`. */
export const AUTH_SCHEME: unique symbol = Symbol.for('scim-router.authScheme')

/** Marks an authenticate function with the `WWW-Authenticate` challenge its 401s carry. */
export const CHALLENGE: unique symbol = Symbol.for('scim-router.challenge')

/** The `authenticationSchemes` entry for OAuth bearer tokens (RFC 7643 §5). */
export const BEARER_SCHEME: AuthenticationScheme = {
  type: 'oauthbearertoken',
  name: 'OAuth Bearer Token',
  description: 'Authentication scheme using the OAuth Bearer Token Standard',
  specUri: 'https://www.rfc-editor.org/info/rfc6750',
  primary: true,
}

/**
 * What `bearerToken()` and `headerToken()` return: an {@link Authenticate} that also carries the
 * `authenticationSchemes` entry the router advertises for it.
 *
 * It is an intersection (not a bare function type) on purpose: TypeScript defers a generic call
 * that returns a plain function type, so written inline — `scimRouter(adapter, { authenticate:
 * bearerToken({ [token]: { tenant: 'a' } }), context: (req, principal) => … })` — `principal`
 * would be `unknown`. With the intersection it is inferred from the token map.
 */
export type TokenAuthenticate<P> = Authenticate<P> & { readonly [AUTH_SCHEME]?: AuthenticationScheme }

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/**
 * Static bearer tokens compared in constant time. Pass one token, several (so they can
 * be rotated), or a map from token to the principal it stands for (e.g. its tenant). Tokens are
 * read from the `Authorization` header only, never from the query string (RFC 7644 §7.4); the
 * scheme name is case-insensitive (RFC 7235 §2.1).
 *
 * @example
 * ```ts
 * scimRouter(adapter, { authenticate: bearerToken(process.env.SCIM_TOKEN!) })
 * scimRouter(adapter, {
 *   authenticate: bearerToken({ [tokenA]: { tenant: 'a' }, [tokenB]: { tenant: 'b' } }),
 *   context: (req, principal) => ({ tenant: principal.tenant }),
 * })
 * ```
 * @throws TypeError when no token is given or a token is empty.
 */
export function bearerToken(tokens: string | readonly string[]): TokenAuthenticate<{ token: number }>
export function bearerToken<P>(tokens: Readonly<Record<string, P>>): TokenAuthenticate<P>
export function bearerToken<P>(tokens: string | readonly string[] | Readonly<Record<string, P>>): TokenAuthenticate<P | { token: number }> {
  const entries: Array<[Buffer, P | { token: number }]> = []
  if (typeof tokens === 'string') entries.push([digest(tokens), { token: 0 }])
  else if (Array.isArray(tokens)) tokens.forEach((t: string, i) => entries.push([digest(t), { token: i }]))
  else for (const [t, p] of Object.entries(tokens as Record<string, P>)) entries.push([digest(t), p])
  const raw = typeof tokens === 'string' ? [tokens] : Array.isArray(tokens) ? (tokens as string[]) : Object.keys(tokens)
  if (raw.length === 0 || raw.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw new TypeError('bearerToken(): give at least one non-empty token')
  }
  const fn: Authenticate<P | { token: number }> = (req) => {
    const header = req.headers.authorization
    if (typeof header !== 'string') return null
    const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
    if (!match) return null
    const presented = digest(match[1] as string)
    let found: P | { token: number } | null = null
    // Compare against every token, so timing does not reveal which one matched.
    for (const [d, principal] of entries) if (timingSafeEqual(d, presented) && found === null) found = principal
    return found
  }
  Object.defineProperty(fn, AUTH_SCHEME, { value: BEARER_SCHEME })
  return fn
}

/** The `authenticationSchemes` entry for HTTP Basic (RFC 7643 §5). */
export const BASIC_SCHEME: AuthenticationScheme = {
  type: 'httpbasic',
  name: 'HTTP Basic',
  description: 'Authentication scheme using the HTTP Basic Standard',
  specUri: 'https://www.rfc-editor.org/info/rfc7617',
  primary: true,
}

/** The `authenticationSchemes` entry for a custom header token (Okta's "HTTP Header" auth). */
export const HEADER_TOKEN_SCHEME: AuthenticationScheme = {
  type: 'apikey',
  name: 'API key header',
  description: 'A static token sent in a request header',
  primary: true,
}

function matcher<P>(secrets: ReadonlyArray<readonly [string, P]>): (presented: string) => P | null {
  const entries = secrets.map(([s, p]) => [digest(s), p] as const)
  return (presented) => {
    const d = digest(presented)
    let found: P | null = null
    for (const [want, principal] of entries) if (timingSafeEqual(want, d) && found === null) found = principal
    return found
  }
}

/**
 * HTTP Basic credentials (RFC 7617) compared in constant time, for IdPs that only offer
 * it (Okta). RFC 7644 §2 advises combining Basic with other factors; serve it over TLS only.
 *
 * @example
 * ```ts
 * scimRouter(adapter, { authenticate: basicAuth({ okta: process.env.SCIM_PASSWORD! }) })
 * ```
 * @param users - user name → password; the principal is `{ user }`.
 * @throws TypeError when no user is given or a name contains ':'.
 */
export function basicAuth(users: Readonly<Record<string, string>>): Authenticate<{ user: string }> {
  const names = Object.keys(users)
  if (names.length === 0 || names.some((n) => n.includes(':') || !users[n])) {
    throw new TypeError('basicAuth(): give at least one user, without ":" in the name, with a non-empty password')
  }
  const match = matcher(names.map((n) => [`${n}:${users[n]}`, { user: n }] as const))
  const fn: Authenticate<{ user: string }> = (req) => {
    const m = /^basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(req.headers.authorization ?? '')
    if (!m) return null
    return match(Buffer.from(m[1] as string, 'base64').toString('utf8'))
  }
  Object.defineProperty(fn, AUTH_SCHEME, { value: BASIC_SCHEME })
  Object.defineProperty(fn, CHALLENGE, { value: 'Basic realm="scim", charset="UTF-8"' })
  return fn
}

/**
 * A static token in a custom header (Okta's "HTTP Header" authentication), compared in constant
 * time. A `Bearer ` prefix in the header value is accepted too.
 *
 * @example
 * ```ts
 * scimRouter(adapter, { authenticate: headerToken('X-API-Key', process.env.SCIM_TOKEN!) })
 * ```
 * @throws TypeError for an empty header name or token.
 */
export function headerToken<P = { token: number }>(header: string, tokens: string | readonly string[] | Readonly<Record<string, P>>): TokenAuthenticate<P | { token: number }> {
  const name = header.toLowerCase()
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new TypeError('headerToken(): invalid header name')
  const list: Array<readonly [string, P | { token: number }]> =
    typeof tokens === 'string'
      ? [[tokens, { token: 0 }]]
      : Array.isArray(tokens)
        ? (tokens as string[]).map((t, i) => [t, { token: i }] as const)
        : Object.entries(tokens as Record<string, P>)
  if (list.length === 0 || list.some(([t]) => typeof t !== 'string' || t.length === 0)) throw new TypeError('headerToken(): give at least one non-empty token')
  const match = matcher(list)
  const fn: Authenticate<P | { token: number }> = (req) => {
    const raw = req.headers[name]
    if (typeof raw !== 'string') return null
    return match(raw.trim().replace(/^bearer[ \t]+/i, ''))
  }
  Object.defineProperty(fn, AUTH_SCHEME, { value: { ...HEADER_TOKEN_SCHEME, description: `A static token sent in the ${header} header` } })
  Object.defineProperty(fn, CHALLENGE, { value: `Bearer realm="scim"` })
  return fn
}
