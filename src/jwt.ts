/**
 * `jwtBearer()`: OAuth 2.0 access tokens as JWTs (RFC 7519), verified against a JWKS (AUTH-001),
 * e.g. the Entra-issued tokens of AUTH-005 or an OAuth authorization server in front of the app.
 * RS256/RS384/RS512, PS256, ES256/ES384 only; `alg: none` and HMAC are refused. Keys come from a
 * static JWKS or a JWKS URL (fetched with the platform's `fetch`, cached, refreshed on an unknown
 * `kid` at most every `refreshSeconds`).
 * @module
 */
import { createPublicKey, verify as verifySignature, type KeyObject, type JsonWebKey } from 'node:crypto'
import type { Authenticate, AuthenticationScheme } from './auth'
import { AUTH_SCHEME, CHALLENGE } from './auth'

/** Options of {@link jwtBearer}. */
export interface JwtBearerOptions {
  /** Where the keys are: a JWKS URL, or the JWKS itself. */
  jwks: string | { keys: JsonWebKey[] }
  /** Expected `iss` (one or several). Required: a token from another issuer is never accepted. */
  issuer: string | readonly string[]
  /** Expected `aud` (one or several). Required. */
  audience: string | readonly string[]
  /** Seconds of clock skew tolerated for `exp`/`nbf`. Default 60. */
  clockTolerance?: number
  /** Least seconds between JWKS refreshes triggered by an unknown `kid`. Default 300. */
  refreshSeconds?: number
}

/** The claims of a verified token, handed to `context` as the principal. */
export interface JwtPrincipal {
  claims: Record<string, unknown>
  subject?: string
}

const ALGS: Record<string, { hash: string; pss?: true; ec?: 'ieee-p1363' }> = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', pss: true },
  ES256: { hash: 'sha256', ec: 'ieee-p1363' },
  ES384: { hash: 'sha384', ec: 'ieee-p1363' },
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * Verify `Authorization: Bearer <JWT>` with keys from a JWKS; the principal is the claims.
 *
 * @example
 * ```ts
 * scimRouter(adapter, {
 *   authenticate: jwtBearer({ jwks: 'https://login.example.com/.well-known/jwks.json', issuer: 'https://login.example.com/', audience: 'scim' }),
 *   context: (_req, p) => ({ tenant: String(p.claims['tid']) }),
 * })
 * ```
 * @throws TypeError at once for missing issuer/audience or an unusable JWKS.
 */
export function jwtBearer(options: JwtBearerOptions): Authenticate<JwtPrincipal> {
  const issuers = new Set(typeof options.issuer === 'string' ? [options.issuer] : options.issuer)
  const audiences = new Set(typeof options.audience === 'string' ? [options.audience] : options.audience)
  if (issuers.size === 0 || audiences.size === 0) throw new TypeError('jwtBearer(): issuer and audience are required')
  const tolerance = options.clockTolerance ?? 60
  const refreshMs = (options.refreshSeconds ?? 300) * 1000
  let keys = new Map<string, KeyObject>()
  let lastFetch = 0
  let loading: Promise<void> | undefined

  const load = (jwks: { keys: JsonWebKey[] }): void => {
    const next = new Map<string, KeyObject>()
    jwks.keys.forEach((jwk, i) => {
      try {
        next.set(typeof jwk['kid'] === 'string' ? jwk['kid'] : `#${i}`, createPublicKey({ key: jwk, format: 'jwk' }))
      } catch {
        // unusable key: skipped
      }
    })
    keys = next
  }
  if (typeof options.jwks !== 'string') {
    load(options.jwks)
    if (keys.size === 0) throw new TypeError('jwtBearer(): the JWKS holds no usable key')
  }
  const refresh = async (): Promise<void> => {
    if (typeof options.jwks !== 'string' || Date.now() - lastFetch < refreshMs) return
    lastFetch = Date.now()
    loading ??= (async () => {
      try {
        const res = await fetch(options.jwks as string, { headers: { accept: 'application/json' } })
        if (res.ok) load((await res.json()) as { keys: JsonWebKey[] })
      } catch {
        // keep the keys we have
      } finally {
        loading = undefined
      }
    })()
    await loading
  }

  const fn: Authenticate<JwtPrincipal> = async (req) => {
    const m = /^bearer[ \t]+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)[ \t]*$/i.exec(req.headers.authorization ?? '')
    if (!m) return null
    const [, h, p, sig] = m as unknown as [string, string, string, string]
    const header = decodePart(h)
    const claims = decodePart(p)
    const alg = header ? ALGS[String(header['alg'])] : undefined
    if (!header || !claims || !alg) return null
    const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined
    let key = kid ? keys.get(kid) : keys.size === 1 ? [...keys.values()][0] : undefined
    if (!key && kid) {
      await refresh()
      key = keys.get(kid)
    }
    if (!key) return null
    const signature = Buffer.from(sig, 'base64url')
    const ok = verifySignature(
      alg.hash,
      Buffer.from(`${h}.${p}`),
      { key, ...(alg.pss ? { padding: 6, saltLength: 32 } : {}), ...(alg.ec ? { dsaEncoding: alg.ec } : {}) },
      signature,
    )
    if (!ok) return null
    const now = Date.now() / 1000
    if (typeof claims['exp'] !== 'number' || claims['exp'] + tolerance < now) return null
    if (typeof claims['nbf'] === 'number' && claims['nbf'] - tolerance > now) return null
    if (typeof claims['iss'] !== 'string' || !issuers.has(claims['iss'])) return null
    const aud = claims['aud']
    const auds = Array.isArray(aud) ? aud : [aud]
    if (!auds.some((a) => typeof a === 'string' && audiences.has(a))) return null
    const principal: JwtPrincipal = { claims }
    if (typeof claims['sub'] === 'string') principal.subject = claims['sub']
    return principal
  }
  const scheme: AuthenticationScheme = {
    type: 'oauthbearertoken',
    name: 'OAuth Bearer Token',
    description: 'Authentication scheme using the OAuth Bearer Token Standard with JWT access tokens',
    specUri: 'https://www.rfc-editor.org/info/rfc6750',
    primary: true,
  }
  Object.defineProperty(fn, AUTH_SCHEME, { value: scheme })
  Object.defineProperty(fn, CHALLENGE, { value: 'Bearer realm="scim", error="invalid_token"' })
  return fn
}
