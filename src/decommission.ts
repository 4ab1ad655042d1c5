/**
 * Decommissioning a connection: its tokens stop at once, then every User of its tenant is
 * deactivated or deleted in batches, each change made through the router's own write path
 * ({@link ScimRouter.execute}), so it emits the same durable lifecycle events as the same change
 * from an IdP (exactly one `user.deprovisioned` per user). The job's progress is stored with the
 * connection, so a process killed half way resumes it ({@link Decommissioner.resume}).
 * @module
 */
import createDebug from 'debug'
import type { ConnectionInfo, ConnectionPrincipal, Connections, DecommissionState, StoredConnection } from './connections'
import { isScimError } from './errors'
import type { DefaultContext } from './options'
import type { ScimRouter } from './router'

const log = createDebug('scim:connections')
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** Options of {@link Decommissioner}. */
export interface DecommissionerOptions<Ctx> {
  /** Users read and changed per batch; progress is stored after each batch. Default 100. */
  batchSize?: number
  /** Pause between batches in ms, to spare the database (and, in tests, to land a kill mid-job). Default 0. */
  batchDelayMs?: number
  /** Pause before retrying a batch whose read failed (e.g. the database is down), in ms. Default 5000. */
  retryDelayMs?: number
  /**
   * The adapter context of the job's operations, for the connection. Default `{ principal, tenant }`
   * with the principal `{ connectionId, tenant, settings }` that `connectionAuth` gives its requests.
   */
  context?: (connection: StoredConnection) => Ctx
}

/** How a decommissioning deprovisions the tenant's users. */
export interface DecommissionRequest {
  /** `deactivate`: PATCH `active` to false; `delete`: DELETE each User. */
  users: 'deactivate' | 'delete'
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })

/**
 * Runs decommissioning jobs of {@link Connections} through a SCIM router.
 *
 * A job goes in passes over the tenant's Users in the router's default order, `batchSize` at a
 * time: a User still active is PATCHed to `active: false` (or DELETEd); one already inactive is
 * skipped, and a PATCH that finds nothing to change writes nothing, so no User gets a second
 * `user.deprovisioned`. A pass that changed something is followed by another (it catches Users the
 * first one missed while others were created or deleted); a pass that changes nothing ends the job
 * (`state: 'done'`). A write that fails (other than 404: the User is gone) is counted in `failed`
 * with `lastError`, and the job goes on.
 *
 * Several processes may run the same job (each after `resume()`): every change is a
 * compare-and-swap, so each User still gets exactly one event; only the progress counters may then
 * be off.
 *
 * @example
 * ```ts
 * const scim = scimRouter(adapter, { authenticate: connectionAuth(connections), onEvent })
 * const decommissions = new Decommissioner(connections, scim)
 * await decommissions.resume()                                     // at start: finish interrupted jobs
 * await decommissions.decommission(id, { users: 'deactivate' })    // tokens stop now; users in the background
 * ```
 */
export class Decommissioner<Ctx = DefaultContext<ConnectionPrincipal>> {
  private readonly batchSize: number
  private readonly batchDelayMs: number
  private readonly retryDelayMs: number
  private readonly context: (connection: StoredConnection) => Ctx
  private readonly running = new Map<string, Promise<void>>()
  private readonly abort = new AbortController()

  /** @throws TypeError for a bad option. */
  constructor(
    private readonly connections: Connections,
    private readonly scim: ScimRouter<Ctx>,
    options: DecommissionerOptions<Ctx> = {},
  ) {
    this.batchSize = options.batchSize ?? 100
    this.batchDelayMs = options.batchDelayMs ?? 0
    this.retryDelayMs = options.retryDelayMs ?? 5000
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 1000) throw new TypeError('Decommissioner: batchSize must be an integer from 1 to 1000')
    for (const [name, v] of [['batchDelayMs', this.batchDelayMs], ['retryDelayMs', this.retryDelayMs]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new TypeError(`Decommissioner: ${name} must be a non-negative number`)
    }
    this.context =
      options.context ?? ((c) => ({ principal: { connectionId: c.id, tenant: c.tenant, settings: c.settings }, tenant: c.tenant }) as unknown as Ctx)
  }

  /**
   * Decommission a connection: revoke it (every token stops at once, in the same store write that
   * records the job), then deprovision its tenant's Users in the background. While a job of the
   * connection is running, this returns it unchanged (whatever `users` says); after one is done, a
   * new one starts (e.g. `delete` after `deactivate`).
   * @returns the connection with its job, or null when there is no such connection.
   * @throws TypeError when `users` is neither `deactivate` nor `delete`.
   */
  async decommission(id: string, request: DecommissionRequest): Promise<ConnectionInfo | null> {
    const users = request?.users
    if (users !== 'deactivate' && users !== 'delete') throw new TypeError("Decommissioner.decommission(): users must be 'deactivate' or 'delete'")
    const c = await this.connections.store.get(id)
    if (!c) return null
    if (c.decommission?.state !== 'running') {
      const now = this.connections.now()
      const job: DecommissionState = { users, state: 'running', startedAt: now, finishedAt: null, pass: 1, position: 0, passChanges: 0, deprovisioned: 0, failed: 0, lastError: null }
      await this.connections.store.update(id, { revokedAt: c.revokedAt ?? now, decommission: job })
    }
    this.start(id)
    return this.connections.get(id)
  }

  /**
   * Start every job left `running` in the store (by a process that stopped or was killed). Call it
   * once at start-up.
   * @returns the ids of the connections whose jobs it started.
   */
  async resume(): Promise<string[]> {
    const ids = (await this.connections.store.list()).filter((c) => c.decommission?.state === 'running').map((c) => c.id)
    for (const id of ids) this.start(id)
    return ids
  }

  /** Resolves when the jobs running in this process (or the one of `id`) have ended or stopped. */
  async settled(id?: string): Promise<void> {
    if (id !== undefined) return this.running.get(id)
    await Promise.all([...this.running.values()])
  }

  /**
   * Stop after the write in flight; the jobs stay `running` in the store, for `resume()` (of a
   * new Decommissioner: this one starts nothing more).
   */
  async stop(): Promise<void> {
    this.abort.abort()
    await this.settled()
  }

  private start(id: string): void {
    if (this.running.has(id) || this.abort.signal.aborted) return
    const run = this.run(id)
      .catch((err: unknown) => log('decommissioning of connection %s stopped: %O', id, err))
      .finally(() => this.running.delete(id))
    this.running.set(id, run)
  }

  private async run(id: string): Promise<void> {
    const signal = this.abort.signal
    while (!signal.aborted) {
      try {
        const c = await this.connections.store.get(id)
        const job = c?.decommission
        if (!c || !job || job.state !== 'running') return
        const next = await this.batch(c, job)
        await this.connections.store.update(id, { decommission: next })
        if (next.state === 'done') {
          log('decommissioning of connection %s done: %d users %s', id, next.deprovisioned, job.users === 'delete' ? 'deleted' : 'deactivated')
          return
        }
      } catch (err) {
        if (signal.aborted) return
        // The store or the router failed (e.g. the database is down): the stored cursor is intact.
        log('decommissioning of connection %s: batch failed, retrying in %d ms: %O', id, this.retryDelayMs, err)
        await sleep(this.retryDelayMs, signal)
        continue
      }
      await sleep(this.batchDelayMs, signal)
    }
  }

  /** One batch of the job: read, change each User, and the job's next state. */
  private async batch(c: StoredConnection, job: DecommissionState): Promise<DecommissionState> {
    const ctx = this.context(c)
    const info = await this.connections.get(c.id)
    const base = info?.baseUrl !== undefined ? { baseUrl: info.baseUrl } : {}
    const page = await this.scim.execute({ method: 'GET', path: `/Users?startIndex=${job.position + 1}&count=${this.batchSize}&attributes=active`, ctx, ...base })
    const body = page.body as { totalResults?: number; Resources?: Array<{ id: string; active?: unknown }> }
    const users = (body.Resources ?? []).filter((u) => typeof u?.id === 'string')
    // The router may answer fewer than asked (maxPageSize): the pass ends at totalResults.
    const endOfPass = users.length === 0 || job.position + users.length >= (body.totalResults ?? 0)
    let changed = 0
    let vanished = 0
    let failed = job.failed
    let lastError = job.lastError
    for (const user of users) {
      if (this.abort.signal.aborted) throw new Error('stopped')
      if (job.users === 'deactivate' && user.active === false) continue
      const path = `/Users/${encodeURIComponent(user.id)}`
      try {
        if (job.users === 'delete') {
          await this.scim.execute({ method: 'DELETE', path, ctx, ...base })
          vanished++
        } else {
          await this.scim.execute({ method: 'PATCH', path, body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }, ctx, ...base })
        }
        changed++
      } catch (err) {
        if (isScimError(err) && err.status === 404) {
          vanished++ // deleted meanwhile (by the IdP, or by this job before a restart)
          continue
        }
        failed++
        lastError = `${job.users === 'delete' ? 'DELETE' : 'PATCH'} ${path}: ${isScimError(err) ? `${err.status} ${err.message}` : 'internal error'}`
        log('decommissioning of connection %s: %s: %O', c.id, lastError, err)
      }
    }
    const next: DecommissionState = {
      ...job,
      position: job.position + users.length - vanished,
      passChanges: job.passChanges + changed,
      deprovisioned: job.deprovisioned + changed,
      failed,
      lastError,
    }
    if (!endOfPass) return next
    // End of a pass: done when it changed nothing, else one more pass from the start.
    if (next.passChanges === 0) return { ...next, state: 'done', finishedAt: this.connections.now() }
    return { ...next, pass: job.pass + 1, position: 0, passChanges: 0, failed: 0, lastError: null }
  }
}
