/**
 * `jwtBearer()`: OAuth 2.0 access tokens as JWTs (RFC 7519), verified against a JWKS,
 * e.g. the tokens Entra issues when its Secret Token is left blank, or an OAuth authorization
 * server in front of the app. Verification is done by `jose`, a maintained and audited JOSE
 * implementation, rather than by hand: signature, `alg` bound to the key's type (and to the JWK's
 * own `alg`), `crit`, `typ`, `exp`/`nbf`, `iss`, `aud`.
 * @module
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, type KeyLike } from 'jose'
import type { Authenticate, AuthenticationScheme } from './auth'
import { AUTH_SCHEME, CHALLENGE } from './auth'
import { ServiceUnavailableError } from './errors'

/** Options of {@link jwtBearer}. */
export interface JwtBearerOptions {
  /** Where the keys are: a JWKS URL (`https:`, or `http:` for tests), or the JWKS itself. */
  jwks: string | { keys: JsonWebKey[] }
  /** Expected `iss` (one or several). Required: a token from another issuer is never accepted. */
  issuer: string | readonly string[]
  /** Expected `aud` (one or several). Required. */
  audience: string | readonly string[]
  /** Seconds of clock skew tolerated for `exp`/`nbf`. Default 60. */
  clockTolerance?: number
  /** Least seconds between JWKS refreshes triggered by a token no cached key matches. Default 300. */
  refreshSeconds?: number
  /**
   * Milliseconds to wait for the JWKS URL to answer. A JWKS that is down, slow or answers
   * something other than a key set makes the request 503 with `Retry-After`, not 401 (the
   * credential may be fine) and never a hang. Default 5000.
   */
  jwksTimeout?: number
  /**
   * Required `typ` header (RFC 7515 §4.1.9, RFC 8725 §3.11), e.g. `'at+jwt'` for RFC 9068 access
   * tokens; compared case-insensitively, `application/` optional. Default: `typ` may be absent,
   * `JWT` or `at+jwt`; any other type (a logout token, a DPoP proof, …) is refused.
   */
  typ?: string
}

/** The claims of a verified token, handed to `context` as the principal. */
export interface JwtPrincipal {
  claims: Record<string, unknown>
  subject?: string
}

/**
 * Asymmetric algorithms only: `none` and HMAC are refused (a public key is not a shared secret).
 * Each is usable only with a key of its type (RSA, EC on the matching curve, OKP).
 */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

/** `typ` values accepted when the `typ` option is not set. */
const DEFAULT_TYPES = new Set(['jwt', 'at+jwt'])

const normalizeTyp = (typ: string): string => typ.toLowerCase().replace(/^application\//, '')

/** jose error codes that mean "this token is not acceptable" (401); anything else is the key source failing (503). */
const TOKEN_ERRORS = new Set([
  'ERR_JWS_INVALID',
  'ERR_JWT_INVALID',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
])

const isTokenError = (err: unknown): boolean => err instanceof errors.JOSEError && TOKEN_ERRORS.has(err.code)

/** Verify, trying each candidate key when the token has no `kid` and several keys of its type match (RFC 7517 §4.5). */
async function verify(token: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<{ payload: JWTPayload; typ: string | undefined }> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys, options)
    return { payload, typ: protectedHeader.typ }
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err
    for await (const key of err as errors.JWKSMultipleMatchingKeys & AsyncIterable<KeyLike>) {
      try {
        const { payload, protectedHeader } = await jwtVerify(token, key, options)
        return { payload, typ: protectedHeader.typ }
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner
      }
    }
    throw new errors.JWSSignatureVerificationFailed()
  }
}

function keySource(options: JwtBearerOptions): JWTVerifyGetKey {
  const jwks = options.jwks
  if (typeof jwks === 'string') {
    let url: URL
    try {
      url = new URL(jwks)
    } catch {
      throw new TypeError('jwtBearer(): jwks must be an absolute https: (or http:) URL or a JWKS object')
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('jwtBearer(): the JWKS URL must be https: (or http:)')
    const timeout = options.jwksTimeout ?? 5000
    const refresh = options.refreshSeconds ?? 300
    if (!(timeout > 0) || !(refresh >= 0)) throw new TypeError('jwtBearer(): jwksTimeout must be positive and refreshSeconds not negative')
    // Keys are kept until a token no cached key matches (at most one refetch per refreshSeconds),
    // so a JWKS outage never takes down requests whose keys are already known.
    return createRemoteJWKSet(url, { timeoutDuration: timeout, cooldownDuration: refresh * 1000, cacheMaxAge: Infinity, headers: { accept: 'application/json' } })
  }
  const usable = Array.isArray(jwks?.keys)
    ? jwks.keys.filter((jwk) => {
        try {
          return createPublicKey({ key: jwk, format: 'jwk' }).type === 'public'
        } catch {
          return false
        }
      })
    : []
  if (usable.length === 0) throw new TypeError('jwtBearer(): the JWKS holds no usable key')
  return createLocalJWKSet({ keys: usable as Parameters<typeof createLocalJWKSet>[0]['keys'] })
}

/**
 * Verify `Authorization: Bearer <JWT>` with keys from a JWKS; the principal is the claims.
 *
 * A token is accepted only when its signature verifies with a key of the JWKS whose type fits
 * the token's `alg` (RS*, PS*: RSA; ES256/384/512: EC P-256/P-384/P-521; EdDSA: OKP) and, when
 * the JWK names an `alg`, that very `alg`. With a `kid` only that key is tried; without one, every
 * key of the fitting type. It must carry `exp` (and `nbf`, when present, must have passed), the
 * expected `iss` and `aud`, an acceptable `typ`, and no `crit` extension (none is understood,
 * RFC 7515 §4.1.11). Anything else resolves to `null` (401). A JWKS URL that fails or does not
 * answer within `jwksTimeout` throws a 503 `ServiceUnavailableError`.
 *
 * @example
 * ```ts
 * scimRouter(adapter, {
 *   authenticate: jwtBearer({ jwks: 'https://login.example.com/.well-known/jwks.json', issuer: 'https://login.example.com/', audience: 'scim' }),
 *   context: (_req, p) => ({ tenant: String(p.claims['tid']) }),
 * })
 * ```
 * @throws TypeError at once for missing issuer/audience, an unusable JWKS or bad timings.
 */
export function jwtBearer(options: JwtBearerOptions): Authenticate<JwtPrincipal> {
  const issuers = typeof options.issuer === 'string' ? [options.issuer] : [...options.issuer]
  const audiences = typeof options.audience === 'string' ? [options.audience] : [...options.audience]
  if (issuers.length === 0 || audiences.length === 0 || [...issuers, ...audiences].some((v) => typeof v !== 'string' || v === '')) {
    throw new TypeError('jwtBearer(): issuer and audience are required')
  }
  const keys = keySource(options)
  const verifyOptions: JWTVerifyOptions = {
    algorithms: ALGORITHMS,
    issuer: issuers,
    audience: audiences,
    clockTolerance: options.clockTolerance ?? 60,
    requiredClaims: ['exp'],
    ...(options.typ !== undefined ? { typ: options.typ } : {}),
  }

  const fn: Authenticate<JwtPrincipal> = async (req) => {
    const m = /^bearer[ \t]+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)[ \t]*$/i.exec(req.headers.authorization ?? '')
    if (!m) return null
    let result: { payload: JWTPayload; typ: string | undefined }
    try {
      result = await verify(m[1] as string, keys, verifyOptions)
    } catch (err) {
      if (isTokenError(err)) return null
      throw new ServiceUnavailableError(5, 'The token signing keys cannot be fetched; retry later', { cause: err })
    }
    if (options.typ === undefined && result.typ !== undefined && !DEFAULT_TYPES.has(normalizeTyp(result.typ))) return null
    const claims = result.payload as Record<string, unknown>
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
