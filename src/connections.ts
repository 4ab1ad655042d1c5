/**
 * SCIM connections managed at run time: one tenant, base URL and rotating bearer tokens per
 * customer organisation, kept in a {@link ConnectionStore} and checked by {@link connectionAuth}
 * (RFC 7644 §2: the service provider authenticates every request; RFC 6750 bearer tokens).
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { AUTH_SCHEME, BEARER_SCHEME, type TokenAuthenticate } from './auth'
import { TooManyRequestsError } from './errors'
import { uuidv7 } from './ids'
import { REQUEST_SETTINGS, checkRequestSettings, type RequestSettings } from './settings'

/** A token-bucket rate limit: `perSecond` requests refill the bucket, which holds at most `burst`. */
export interface RateLimit {
  perSecond: number
  burst: number
}

/**
 * Settings of one connection, stored with it and applied to every request its tokens
 * authenticate: the router options they name ({@link RequestSettings}: `strict`,
 * `groupPatchResponse`, `allowedEmailDomains`, `seatCap`) override the router's for that request,
 * and `rateLimit` overrides the default of {@link connectionAuth}.
 */
export interface ConnectionSettings extends RequestSettings {
  /** This connection's token bucket, instead of `connectionAuth`'s default. */
  rateLimit?: RateLimit
}

/**
 * The decommissioning job of a connection (see `Decommissioner`), stored with it so that a
 * process killed half way resumes where it stopped.
 */
export interface DecommissionState {
  /** What happens to the tenant's users: deactivated (`active` false) or deleted. */
  users: 'deactivate' | 'delete'
  /** `running` until every user is deprovisioned; then `done`. */
  state: 'running' | 'done'
  /** Epoch ms. */
  startedAt: number
  /** Epoch ms, when `done`. */
  finishedAt: number | null
  /** Passes over the tenant's users so far (a pass that changes nothing ends the job). */
  pass: number
  /** Progress cursor: the `startIndex` (from 0) of the next batch in the current pass. */
  position: number
  /** Users changed in the current pass (a later pass starts when it is not 0). */
  passChanges: number
  /** Users deactivated or deleted by this job so far. */
  deprovisioned: number
  /** Users whose write failed in the last pass (left as they were; see `lastError`). */
  failed: number
  /** Detail of the last failed write, if any. */
  lastError: string | null
}

/** One bearer token of a connection, as stored: only its SHA-256 hash, never the token. */
export interface StoredConnectionToken {
  /** Lowercase hex SHA-256 of the token. */
  hash: string
  /** When it was issued (epoch ms). */
  createdAt: number
  /** When it stops working (epoch ms), or null for never. */
  expiresAt: number | null
}

/** A connection as stored. */
export interface StoredConnection {
  id: string
  /** The tenant every request authenticated by this connection works in. */
  tenant: string
  /** Epoch ms. */
  createdAt: number
  /** When the connection was revoked (epoch ms): every token stops working from then on. */
  revokedAt: number | null
  /** Last time one of its tokens authenticated a request (epoch ms; written at most every `lastUsedEvery`). */
  lastUsedAt: number | null
  /** At most two: the current token and, during a rotation, the previous one. */
  tokens: StoredConnectionToken[]
  /** Per-connection settings (`{}`: the router's and `connectionAuth`'s defaults). */
  settings: ConnectionSettings
  /** The decommissioning job, once one was started; null before. */
  decommission: DecommissionState | null
}

/** Fields {@link ConnectionStore.update} sets (the ones given). */
export interface ConnectionUpdate {
  revokedAt?: number | null
  lastUsedAt?: number | null
  settings?: ConnectionSettings
  decommission?: DecommissionState | null
}

/**
 * Where connections are kept. Implementations: {@link MemoryConnectionStore}, and
 * `kyselyConnectionStore(db)` of `scim-router/kysely` (tables created by its `migrate()`), which
 * keeps connections in the same database as the resources.
 */
export interface ConnectionStore {
  /** Store a new connection (with its tokens). */
  insert(connection: StoredConnection): Promise<void>
  /** One connection by id, or null. */
  get(id: string): Promise<StoredConnection | null>
  /** Every connection, oldest first. */
  list(): Promise<StoredConnection[]>
  /** The connection that has a token with this hash (expired or not), or null. */
  findByTokenHash(hash: string): Promise<StoredConnection | null>
  /** Replace a connection's tokens at once (atomically). */
  setTokens(id: string, tokens: StoredConnectionToken[]): Promise<void>
  /** Set the fields given (atomically, as one write). */
  update(id: string, fields: ConnectionUpdate): Promise<void>
}

/** A connection as listed: no token and no hash in it. */
export interface ConnectionInfo {
  id: string
  tenant: string
  /** The SCIM base URL of this connection (`<baseUrl>/c/<id>`), when the manager has a `baseUrl`. */
  baseUrl?: string
  createdAt: string
  revokedAt: string | null
  lastUsedAt: string | null
  /** When each active token expires (ISO 8601, null = never), newest first. */
  tokens: Array<{ createdAt: string; expiresAt: string | null }>
  settings: ConnectionSettings
  /** The decommissioning job and its progress, or null. */
  decommission: DecommissionState | null
}

/** What {@link Connections.create} returns: the token is shown this once only. */
export interface CreatedConnection {
  id: string
  tenant: string
  baseUrl?: string
  token: string
}

/** The principal {@link connectionAuth} resolves to. */
export interface ConnectionPrincipal {
  connectionId: string
  tenant: string
  /** The connection's settings, read with its token on every request. */
  settings: ConnectionSettings
}

/** Options of {@link Connections}. */
export interface ConnectionsOptions {
  /**
   * The SCIM base URL shared by every connection, e.g. `https://app.example.com/scim/v2`; a
   * connection's own URL is `<baseUrl>/c/<id>`. Without it, `baseUrl` is left out of answers.
   */
  baseUrl?: string
  /** Lifetime of a new token in seconds, or null (default) for tokens that do not expire. */
  tokenTtlSeconds?: number | null
  /** `lastUsedAt` is written at most once per this many ms per connection. Default 60 000. */
  lastUsedEvery?: number
  /** The clock (epoch ms). Default `Date.now`; inject one in tests. */
  now?: () => number
}

/** The recognisable prefix of every connection token (so secret scanners can find leaked ones). */
export const CONNECTION_TOKEN_PREFIX = 'scimct_'

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex')
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
const newToken = (): string => CONNECTION_TOKEN_PREFIX + randomBytes(32).toString('base64url')

/**
 * Creates, lists, rotates and revokes connections over a {@link ConnectionStore}, and checks
 * presented tokens (for {@link connectionAuth}).
 *
 * @example
 * ```ts
 * const connections = new Connections(new MemoryConnectionStore(), { baseUrl: 'https://app.example.com/scim/v2' })
 * const { id, token } = await connections.create('acme')        // hand `token` to the customer once
 * const { token: next } = await connections.rotate(id, 3600)    // the old token works one more hour
 * await connections.revoke(id)                                  // every token stops at once
 * ```
 */
export class Connections {
  readonly store: ConnectionStore
  /** The clock (epoch ms) of {@link ConnectionsOptions.now}. */
  readonly now: () => number
  private readonly ttl: number | null
  private readonly lastUsedEvery: number
  private readonly baseUrl: string | undefined
  private readonly touched = new Map<string, number>()

  constructor(store: ConnectionStore, options: ConnectionsOptions = {}) {
    this.store = store
    this.now = options.now ?? Date.now
    this.ttl = options.tokenTtlSeconds ?? null
    this.lastUsedEvery = options.lastUsedEvery ?? 60_000
    this.baseUrl = options.baseUrl?.replace(/\/+$/, '')
    if (this.ttl !== null && !(this.ttl > 0)) throw new TypeError('Connections: tokenTtlSeconds must be positive or null')
  }

  private url(id: string): { baseUrl?: string } {
    return this.baseUrl === undefined ? {} : { baseUrl: `${this.baseUrl}/c/${id}` }
  }

  private issue(): { token: string; stored: StoredConnectionToken } {
    const token = newToken()
    const now = this.now()
    return { token, stored: { hash: sha256(token), createdAt: now, expiresAt: this.ttl === null ? null : now + this.ttl * 1000 } }
  }

  /**
   * A new connection for `tenant`, with one token and `settings` (default none).
   * @throws TypeError for an empty tenant or invalid settings (see {@link checkConnectionSettings}).
   */
  async create(tenant: string, settings: ConnectionSettings = {}): Promise<CreatedConnection> {
    if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 64) throw new TypeError('Connections.create(): tenant must be a non-empty string of at most 64 characters')
    const checked = checkConnectionSettings(settings)
    const id = uuidv7()
    const { token, stored } = this.issue()
    await this.store.insert({ id, tenant, createdAt: stored.createdAt, revokedAt: null, lastUsedAt: null, tokens: [stored], settings: checked, decommission: null })
    return { id, tenant, ...this.url(id), token }
  }

  /**
   * Change a connection's settings: each field given replaces the stored one, a field given as
   * `null` goes back to the default. Takes effect on the connection's next request.
   * @returns the connection, or null when there is none.
   * @throws TypeError for invalid settings.
   */
  async updateSettings(id: string, changes: { [K in keyof ConnectionSettings]?: ConnectionSettings[K] | null }): Promise<ConnectionInfo | null> {
    if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) throw new TypeError('Connections.updateSettings(): settings must be an object')
    const c = await this.store.get(id)
    if (!c) return null
    const merged: Record<string, unknown> = { ...c.settings }
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete merged[k]
      else if (v !== undefined) merged[k] = v
    }
    const settings = checkConnectionSettings(merged as ConnectionSettings)
    await this.store.update(id, { settings })
    return this.info({ ...c, settings })
  }

  /** Every connection, without tokens or hashes; expired tokens are left out. */
  async list(): Promise<ConnectionInfo[]> {
    return (await this.store.list()).map((c) => this.info(c))
  }

  /** One connection without tokens or hashes, or null. */
  async get(id: string): Promise<ConnectionInfo | null> {
    const c = await this.store.get(id)
    return c ? this.info(c) : null
  }

  private info(c: StoredConnection): ConnectionInfo {
    const now = this.now()
    return {
      id: c.id,
      tenant: c.tenant,
      ...this.url(c.id),
      createdAt: iso(c.createdAt) as string,
      revokedAt: iso(c.revokedAt),
      lastUsedAt: iso(c.lastUsedAt),
      tokens: c.revokedAt !== null ? [] : c.tokens.filter((t) => t.expiresAt === null || t.expiresAt > now).sort((a, b) => b.createdAt - a.createdAt).map((t) => ({ createdAt: iso(t.createdAt) as string, expiresAt: iso(t.expiresAt) })),
      settings: c.settings,
      decommission: c.decommission,
    }
  }

  /**
   * A new token for the connection; the current one keeps working `graceSeconds` more (0: it
   * stops now), earlier if it expires before. Older tokens stop now: at most two are active.
   * @returns the new token (shown once), or null when there is no such connection or it is revoked.
   * @throws TypeError for a negative or non-finite `graceSeconds`.
   */
  async rotate(id: string, graceSeconds: number): Promise<{ token: string } | null> {
    if (typeof graceSeconds !== 'number' || !Number.isFinite(graceSeconds) || graceSeconds < 0) throw new TypeError('Connections.rotate(): graceSeconds must be a non-negative number')
    const c = await this.store.get(id)
    if (!c || c.revokedAt !== null) return null
    const now = this.now()
    const deadline = now + graceSeconds * 1000
    const current = c.tokens.filter((t) => t.expiresAt === null || t.expiresAt > now).sort((a, b) => b.createdAt - a.createdAt)[0]
    const { token, stored } = this.issue()
    const kept = current && graceSeconds > 0 ? [{ ...current, expiresAt: current.expiresAt === null ? deadline : Math.min(current.expiresAt, deadline) }] : []
    await this.store.setTokens(id, [stored, ...kept])
    return { token }
  }

  /** Revoke a connection: every token stops working at once. @returns false when there is no such connection. */
  async revoke(id: string): Promise<boolean> {
    const c = await this.store.get(id)
    if (!c) return false
    if (c.revokedAt === null) await this.store.update(id, { revokedAt: this.now() })
    return true
  }

  /**
   * The connection a presented token belongs to, when the token is one of its active ones (not
   * expired, connection not revoked) and, with `connectionId`, the connection is that one.
   * Records `lastUsedAt` (throttled).
   */
  async verify(token: string, connectionId?: string): Promise<ConnectionPrincipal | null> {
    if (!token.startsWith(CONNECTION_TOKEN_PREFIX)) return null
    const hash = sha256(token)
    const c = await this.store.findByTokenHash(hash)
    if (!c || c.revokedAt !== null) return null
    if (connectionId !== undefined && connectionId !== c.id) return null
    const now = this.now()
    const presented = Buffer.from(hash, 'hex')
    let ok = false
    for (const t of c.tokens) {
      const match = t.hash.length === hash.length && timingSafeEqual(Buffer.from(t.hash, 'hex'), presented)
      if (match && (t.expiresAt === null || t.expiresAt > now)) ok = true
    }
    if (!ok) return null
    const last = this.touched.get(c.id) ?? c.lastUsedAt ?? -Infinity
    if (now - last >= this.lastUsedEvery) {
      this.touched.set(c.id, now)
      await this.store.update(c.id, { lastUsedAt: now })
    }
    return { connectionId: c.id, tenant: c.tenant, settings: c.settings }
  }
}

/**
 * Validate connection settings; returns a clean copy (unknown fields dropped, domains lower-cased).
 * @throws TypeError naming the bad setting.
 */
export function checkConnectionSettings(settings: ConnectionSettings): ConnectionSettings {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new TypeError('connection settings must be an object')
  const out: ConnectionSettings = checkRequestSettings(settings, 'connection settings')
  const limit = settings.rateLimit
  if (limit !== undefined) {
    if (typeof limit !== 'object' || limit === null || !(typeof limit.perSecond === 'number' && limit.perSecond > 0 && Number.isFinite(limit.perSecond)) || !(typeof limit.burst === 'number' && limit.burst >= 1 && Number.isFinite(limit.burst))) {
      throw new TypeError('connection settings: rateLimit needs perSecond > 0 and burst >= 1')
    }
    out.rateLimit = { perSecond: limit.perSecond, burst: limit.burst }
  }
  return out
}

/** Options of {@link connectionAuth}. */
export interface ConnectionAuthOptions {
  /**
   * Where the connection id is in the request path, for per-connection URLs: a RegExp whose
   * first group is the id, matched against the original URL (before the mount path is stripped).
   * Default `/\/c\/([^/?#]+)(?=[/?#]|$)/`: mount the router at `/scim/v2/c/:connection` as well
   * as at `/scim/v2`. When it matches, the token must belong to that connection (else 401); when
   * it does not, the tenant comes from the token alone.
   */
  pathPattern?: RegExp
  /**
   * Default token-bucket rate limit per connection (a connection's `settings.rateLimit` overrides
   * it), in this process: `perSecond` requests refill the
   * bucket, which holds at most `burst`. Beyond it: 429 with `Retry-After` and a SCIM error body
   * (RFC 6585 §4, RFC 7644 §3.12). Default `{ perSecond: 50, burst: 100 }` (above the 25
   * requests/s per tenant that Entra ID's gallery requires); `false` turns it off.
   */
  rateLimit?: RateLimit | false
}

/**
 * The router's `settings` option for principals of {@link connectionAuth}: the connection's
 * settings. `connectionAuth` marks itself with it, so pass it only when you wrap `connectionAuth`
 * in your own authenticate function.
 */
export function connectionSettings(principal: unknown): RequestSettings | undefined {
  const s = (principal as { settings?: unknown } | null | undefined)?.settings
  return typeof s === 'object' && s !== null ? (s as RequestSettings) : undefined
}

/**
 * An authenticate strategy for `scimRouter` over {@link Connections}: a connection's bearer token
 * (RFC 6750 §2.1) gives the request its tenant. Revoked connections and expired tokens get 401;
 * beyond the connection's rate limit, 429 with `Retry-After`.
 *
 * @example
 * ```ts
 * const scim = scimRouter(adapter, { authenticate: connectionAuth(connections) })
 * app.use('/scim/v2/c/:connection', scim)  // per-connection URL: the token must be this connection's
 * app.use('/scim/v2', scim)                // shared URL: the tenant comes from the token
 * ```
 */
export function connectionAuth(connections: Connections, options: ConnectionAuthOptions = {}): TokenAuthenticate<ConnectionPrincipal> {
  const pattern = options.pathPattern ?? /\/c\/([^/?#]+)(?=[/?#]|$)/
  const fallback = options.rateLimit === undefined ? { perSecond: 50, burst: 100 } : options.rateLimit
  if (fallback !== false && !(fallback.perSecond > 0 && fallback.burst >= 1)) throw new TypeError('connectionAuth(): rateLimit needs perSecond > 0 and burst >= 1')
  const buckets = new Map<string, { tokens: number; at: number }>()
  const take = (id: string, own: RateLimit | undefined): void => {
    const limit = own ?? fallback
    if (limit === false) return
    const now = connections.now()
    const b = buckets.get(id) ?? { tokens: limit.burst, at: now }
    b.tokens = Math.min(limit.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * limit.perSecond)
    b.at = now
    buckets.set(id, b)
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond))
      throw new TooManyRequestsError(wait, `Rate limit of this connection exceeded (${limit.perSecond} requests/s, burst ${limit.burst}); retry after ${wait} s`)
    }
    b.tokens -= 1
  }
  const fn = async (req: IncomingMessage): Promise<ConnectionPrincipal | null> => {
    const header = req.headers.authorization
    if (typeof header !== 'string') return null
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
    if (!m) return null
    const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? ''
    const inPath = pattern.exec(url.split('?')[0] as string)?.[1]
    let id: string | undefined
    if (inPath !== undefined) {
      try {
        id = decodeURIComponent(inPath)
      } catch {
        return null
      }
    }
    const principal = await connections.verify(m[1] as string, id)
    if (principal) take(principal.connectionId, principal.settings.rateLimit)
    return principal
  }
  Object.defineProperty(fn, AUTH_SCHEME, { value: BEARER_SCHEME })
  // The router applies each connection's settings to its requests without further wiring.
  Object.defineProperty(fn, REQUEST_SETTINGS, { value: connectionSettings })
  return fn as TokenAuthenticate<ConnectionPrincipal>
}

/** A {@link ConnectionStore} in memory (tests, single-process apps; lost on restart). */
export class MemoryConnectionStore implements ConnectionStore {
  private readonly byId = new Map<string, StoredConnection>()
  private readonly byHash = new Map<string, string>()
  private copy(c: StoredConnection): StoredConnection {
    return { ...c, tokens: c.tokens.map((t) => ({ ...t })), settings: structuredClone(c.settings), decommission: c.decommission ? { ...c.decommission } : null }
  }
  async insert(connection: StoredConnection): Promise<void> {
    if (this.byId.has(connection.id)) throw new Error(`connection ${connection.id} exists`)
    this.byId.set(connection.id, this.copy(connection))
    for (const t of connection.tokens) this.byHash.set(t.hash, connection.id)
  }
  async get(id: string): Promise<StoredConnection | null> {
    const c = this.byId.get(id)
    return c ? this.copy(c) : null
  }
  async list(): Promise<StoredConnection[]> {
    return [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((c) => this.copy(c))
  }
  async findByTokenHash(hash: string): Promise<StoredConnection | null> {
    const id = this.byHash.get(hash)
    return id === undefined ? null : this.get(id)
  }
  async setTokens(id: string, tokens: StoredConnectionToken[]): Promise<void> {
    const c = this.byId.get(id)
    if (!c) return
    for (const t of c.tokens) this.byHash.delete(t.hash)
    c.tokens = tokens.map((t) => ({ ...t }))
    for (const t of c.tokens) this.byHash.set(t.hash, id)
  }
  async update(id: string, fields: ConnectionUpdate): Promise<void> {
    const c = this.byId.get(id)
    if (!c) return
    if (fields.revokedAt !== undefined) c.revokedAt = fields.revokedAt
    if (fields.lastUsedAt !== undefined) c.lastUsedAt = fields.lastUsedAt
    if (fields.settings !== undefined) c.settings = structuredClone(fields.settings)
    if (fields.decommission !== undefined) c.decommission = fields.decommission ? { ...fields.decommission } : null
  }
}
