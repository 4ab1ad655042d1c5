/**
 * POST /Bulk (RFC 7644 §3.7): operations run in request order through the very same handlers as
 * single requests, each atomic on its own and none across them. `bulkId`
 * references (`"bulkId:qwerty"`) are resolved in later operations' data and paths; an operation
 * that references a POST appearing later waits for it; a reference cycle is broken by
 * creating one resource of the cycle without the circular values and patching them in afterwards
 * (RFC 7644 §3.7.1); operations outside the cycle that reference it wait until it is closed, and
 * when it cannot be closed the half-created resource is deleted again and its POST reported as
 * failed. References are strings that are exactly `bulkId:x`, path segments, and quoted
 * `"bulkId:x"` inside filters (RFC 7644 §3.7.2); other text is never rewritten. The request's
 * deadline (`adapterTimeout`) is checked between operations: at the deadline the run stops, the
 * operation in flight is aborted through the adapter signal unless it already committed, and every
 * operation not performed is reported with status 503, so the response says exactly what was done
 * (RFC 7644 §3.7.3).
 * @module
 */
import createDebug from 'debug'
import Ajv from 'ajv'
import { InvalidSyntaxError, InvalidValueError, PayloadTooLargeError, ScimError, isScimError } from '../errors'
import { requireObject } from '../http/body'
import { Deadline, stoppedByDeadline } from '../deadline'
import type { Call, Reply, Service } from '../service'

const log = createDebug('scim:bulk')

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:bulkrequest'
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse'
const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const validateEnvelope = new Ajv({ strict: true }).compile({
  type: 'object',
  required: ['operations'],
  properties: {
    schemas: { type: 'array', items: { type: 'string' } },
    failonerrors: {},
    operations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['method', 'path'],
        properties: {
          method: { type: 'string' },
          path: { type: 'string' },
          bulkid: { type: 'string', minLength: 1 },
          version: { type: 'string' },
        },
      },
    },
  },
})

/** Executes one operation on a resource endpoint (the router's `execute`). */
export type Execute = (method: string, segments: readonly string[], call: Call) => Promise<Reply>

interface Op {
  index: number
  method: string
  path: string
  bulkId?: string
  version?: string
  data?: unknown
  refs: Set<string>
  /** For the PATCH that completes a cycle-broken POST: the POST it reports under. */
  fixupOf?: Op
}

interface Result {
  method: string
  bulkId?: string
  location?: string
  version?: string
  status: string
  response?: unknown
}

function lowerKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(obj)) {
    const lower = k.toLowerCase()
    if (Object.prototype.hasOwnProperty.call(out, lower)) throw new InvalidSyntaxError(`BulkRequest: member '${k}' appears more than once`)
    // defineProperty: a `__proto__` member stays an own property and never becomes the prototype.
    Object.defineProperty(out, lower, { value: obj[k], enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * A bulkId reference: a string that is exactly `bulkId:x` (a reference value such as
 * `members[].value` or `manager.value`, or a path segment), or a quoted `"bulkId:x"` inside a
 * string (a valuePath filter such as `members[value eq "bulkId:x"]`). Free text that
 * merely mentions `bulkId:` elsewhere is left alone.
 */
const FULL_REF = /^bulkId:([^"\s\][()/,]+)$/
const QUOTED_REF = /"bulkId:([^"\s\][()/,]+)"/g

/** Every bulkId referenced anywhere in a value (strings only; keys are never references). */
function collectRefs(value: unknown, into: Set<string>): void {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') {
      const full = FULL_REF.exec(v)
      if (full) into.add(full[1] as string)
      else for (const m of v.matchAll(QUOTED_REF)) into.add(m[1] as string)
    } else if (Array.isArray(v)) stack.push(...v)
    else if (v !== null && typeof v === 'object') stack.push(...Object.values(v))
  }
}

/**
 * Copy a value with every `bulkId:x` replaced by the created id; own keys copied safely (no
 * `__proto__` setter). Iterative, so a deeply nested `data` member cannot overflow the stack.
 */
function resolveRefs(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  const scalar = (v: unknown): unknown => {
    if (typeof v !== 'string') return v
    const full = FULL_REF.exec(v)
    if (full) return ids.get(full[1] as string) ?? v
    return v.replace(QUOTED_REF, (whole, ref: string) => {
      const id = ids.get(ref)
      return id === undefined ? whole : JSON.stringify(id)
    })
  }
  const pending: [object, unknown[] | Record<string, unknown>][] = []
  const copy = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return scalar(v)
    const target: unknown[] | Record<string, unknown> = Array.isArray(v) ? [] : {}
    pending.push([v, target])
    return target
  }
  const root = copy(value)
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [source, target] = next
    if (Array.isArray(source)) {
      for (const item of source) (target as unknown[]).push(copy(item))
    } else {
      for (const k of Object.keys(source)) {
        Object.defineProperty(target, k, { value: copy((source as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true })
      }
    }
  }
  return root
}

/** The bulkIds of an operation path's segments (`/Users/bulkId:qwerty`). */
function collectPathRefs(path: string, into: Set<string>): void {
  for (const seg of path.split('/')) {
    const m = FULL_REF.exec(seg)
    if (m) into.add(m[1] as string)
  }
}

/** The path with resolved segments; undefined while a referenced bulkId is unknown. */
function resolvePath(path: string, ids: ReadonlyMap<string, string>): string | undefined {
  let unresolved = false
  const out = path
    .split('/')
    .map((seg) => {
      const m = FULL_REF.exec(seg)
      if (!m) return seg
      const id = ids.get(m[1] as string)
      if (id === undefined) unresolved = true
      return id === undefined ? seg : encodeURIComponent(id)
    })
    .join('/')
  return unresolved ? undefined : out
}

function parseOperations(svc: Service, body: Record<string, unknown>): { ops: Op[]; failOnErrors: number | undefined } {
  const envelope = lowerKeys(body)
  const rawOps = envelope['operations']
  if (Array.isArray(rawOps) && svc.options.bulk && rawOps.length > svc.options.bulk.maxOperations) {
    throw new PayloadTooLargeError(`The number of operations exceeds the maxOperations (${svc.options.bulk.maxOperations}).`)
  }
  if (Array.isArray(rawOps)) envelope['operations'] = rawOps.map((o) => (o !== null && typeof o === 'object' && !Array.isArray(o) ? lowerKeys(o as Record<string, unknown>) : o))
  if (!validateEnvelope(envelope)) {
    const e = validateEnvelope.errors?.[0]
    throw new InvalidSyntaxError(`Invalid BulkRequest: ${e?.instancePath || 'message'} ${e?.message ?? 'is invalid'} (RFC 7644 §3.7)`)
  }
  const schemas = envelope['schemas'] as string[] | undefined
  if (!schemas?.some((s) => s.toLowerCase() === BULK_REQUEST)) {
    throw new InvalidSyntaxError(`A BulkRequest must list urn:ietf:params:scim:api:messages:2.0:BulkRequest in 'schemas' (BLK-003)`)
  }
  let failOnErrors: number | undefined
  if (envelope['failonerrors'] !== undefined && envelope['failonerrors'] !== null) {
    const f = envelope['failonerrors']
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 1) throw new InvalidValueError(`'failOnErrors' must be an integer of at least 1`)
    failOnErrors = f
  }
  const seen = new Set<string>()
  const ops = (envelope['operations'] as Record<string, unknown>[]).map((raw, index): Op => {
    const method = String(raw['method']).toUpperCase()
    const path = raw['path'] as string
    const where = `Operations[${index}]`
    if (!METHODS.has(method)) throw new InvalidSyntaxError(`${where}: method must be POST, PUT, PATCH or DELETE`)
    if (!path.startsWith('/') || path.includes('?') || path.includes('#')) throw new InvalidSyntaxError(`${where}: 'path' must be a path such as /Users or /Users/{id}`)
    const segments = path.split('/').filter(Boolean)
    if (method === 'POST' ? segments.length !== 1 : segments.length !== 2) {
      throw new InvalidSyntaxError(`${where}: ${method} needs a path ${method === 'POST' ? 'to a resource type endpoint, e.g. /Users' : 'to one resource, e.g. /Users/{id}'}`)
    }
    const op: Op = { index, method, path, refs: new Set() }
    if (method !== 'DELETE') {
      if (!Object.prototype.hasOwnProperty.call(raw, 'data')) throw new InvalidSyntaxError(`${where}: 'data' is required for ${method}`)
      op.data = raw['data']
      collectRefs(op.data, op.refs)
    }
    collectPathRefs(path, op.refs)
    const bulkId = raw['bulkid'] as string | undefined
    if (method === 'POST' && bulkId === undefined) throw new InvalidSyntaxError(`${where}: 'bulkId' is required for POST`)
    if (bulkId !== undefined) {
      if (seen.has(bulkId)) throw new InvalidSyntaxError(`${where}: bulkId '${bulkId}' is used more than once`)
      seen.add(bulkId)
      op.bulkId = bulkId
    }
    if (typeof raw['version'] === 'string') op.version = raw['version']
    return op
  })
  return { ops, failOnErrors }
}

/** 503 without scimType (RFC 7644 §3.7.3): the operation was not performed because of the deadline. */
function deadlineResult(op: Op, ran: boolean): Result {
  const detail = ran
    ? 'The request reached its deadline (adapterTimeout) while this operation ran; it was stopped and not performed'
    : 'The request reached its deadline (adapterTimeout) before this operation was attempted; it was not performed'
  const result: Result = { method: op.method, status: '503', response: new ScimError(503, 'ERR_SCIM_UNAVAILABLE', detail).toErrorEnvelope() }
  if (op.bulkId !== undefined) result.bulkId = op.bulkId
  return result
}

function errorResult(op: Op, err: unknown, location: string | undefined): Result {
  let scim: ScimError
  if (isScimError(err)) scim = err
  else {
    log('bulk operation %d failed unexpectedly: %O', op.index, err)
    scim = new ScimError(500, 'ERR_SCIM_INTERNAL', 'Internal server error')
  }
  const result: Result = { method: op.method, status: String(scim.status), response: scim.toErrorEnvelope() }
  if (op.bulkId !== undefined) result.bulkId = op.bulkId
  if (location && op.method !== 'POST') result.location = location
  return result
}

/** Serve POST /Bulk. */
export async function runBulk(svc: Service, call: Call, execute: Execute): Promise<Reply> {
  const { ops, failOnErrors } = parseOperations(svc, requireObject(call.body))
  const posts = new Map(ops.filter((o) => o.method === 'POST').map((o) => [o.bulkId as string, o]))
  const ids = new Map<string, string>()
  const failed = new Set<string>()
  const results = new Map<number, Result>()
  let errors = 0
  let pending = [...ops]
  /** Set when the request's deadline stopped the run: the rest is reported 503. */
  let stopped = false

  const run = async (op: Op, data: unknown): Promise<Result> => {
    const resolvedPath = resolvePath(op.path, ids)
    const path = resolvedPath ?? op.path
    const location = resolvedPath === undefined ? undefined : `${call.render.baseUrl}${path}` // none with an unresolved bulkId
    const commits = call.deadline.commits
    try {
      const unresolved = [...op.refs].filter((r) => !ids.has(r))
      if (unresolved.length > 0) {
        const ref = unresolved[0] as string
        const why = failed.has(ref) ? 'refers to an operation that failed' : 'does not refer to a resource created in this request'
        throw new ScimError(409, 'ERR_SCIM_INVALID_VALUE', `bulkId '${ref}' ${why} (BLK-012)`, 'invalidValue')
      }
      let segments: string[]
      try {
        segments = path.split('/').filter(Boolean).map((seg) => decodeURIComponent(seg))
      } catch {
        throw new InvalidSyntaxError(`'${op.path}' is not a valid path (BLK-052)`)
      }
      if (!svc.registry.bySegment(segments[0] as string)) {
        throw new InvalidSyntaxError(`'${op.path}' is not a resource endpoint of this service provider (BLK-052)`)
      }
      let body = resolveRefs(data, ids)
      if (op.method === 'PATCH' && Array.isArray(body)) body = { Operations: body } // BLK-005
      const headers: Call['headers'] = op.version !== undefined ? { 'if-match': op.version } : {}
      const reply = await execute(op.method, segments, { ...call, query: new URLSearchParams(), headers, body })
      const result: Result = { method: op.method, status: String(reply.status) }
      if (op.bulkId !== undefined) result.bulkId = op.bulkId
      const loc = reply.headers?.['Location']
      if (loc) result.location = loc
      else if (op.method !== 'POST' && location !== undefined) result.location = location
      const etag = reply.headers?.['ETag']
      if (etag) result.version = etag
      if (op.method === 'POST' && reply.body !== undefined) {
        result.response = reply.body
        if (op.bulkId !== undefined) ids.set(op.bulkId, (reply.body as { id: string }).id)
      }
      if (op.fixupOf && reply.status < 300) {
        // BLK-040: the POST reports the resource as it stands once the cycle is closed.
        const read = await execute('GET', segments, { ...call, query: new URLSearchParams(), headers: {}, body: undefined })
        result.response = read.body
        const readTag = read.headers?.['ETag']
        if (readTag) result.version = readTag
      }
      return result
    } catch (err) {
      if (stoppedByDeadline(call.deadline, err, commits)) {
        stopped = true
        const result = deadlineResult(op, true)
        if (location && op.method !== 'POST') result.location = location
        return result
      }
      return errorResult(op, err, location)
    }
  }

  /** bulkId → the PATCH that will add a cycle-broken POST's circular values (RFC 7644 §3.7.1). */
  const incomplete = new Map<string, Op>()

  /** Undo a cycle-broken POST whose second half did not happen: the operation is atomic. */
  const rollBack = async (fixup: Op): Promise<void> => {
    const target = fixup.fixupOf as Op
    const bulkId = target.bulkId as string
    incomplete.delete(bulkId)
    const id = ids.get(bulkId)
    ids.delete(bulkId)
    failed.add(bulkId)
    if (id === undefined) return
    const segment = target.path.split('/').filter(Boolean)[0] as string
    try {
      // An undo runs even after the deadline: it restores what the request promised (no change).
      await execute('DELETE', [segment, id], { ...call, query: new URLSearchParams(), headers: {}, body: undefined, deadline: Deadline.none() })
    } catch (err) {
      log('bulk: could not roll back %s/%s: %O', segment, id, err)
    }
  }

  /** Store a result; true when failOnErrors says stop (RFC 7644 §3.7.3). */
  const record = async (op: Op, result: Result): Promise<boolean> => {
    let report = result
    const target = op.fixupOf ?? op
    if (op.fixupOf) {
      // The cycle's second half: success completes the POST's report; failure undoes and fails the POST.
      const created = results.get(target.index) as Result
      incomplete.delete(target.bulkId as string)
      if (Number(result.status) < 400) {
        report = { ...created, ...(result.version ? { version: result.version } : {}), ...(result.response !== undefined ? { response: result.response } : {}) }
      } else {
        await rollBack(op)
        const { location: _location, ...rest } = result
        report = { ...rest, method: 'POST', ...(target.bulkId ? { bulkId: target.bulkId } : {}) }
      }
    }
    results.set(target.index, report)
    if (Number(result.status) >= 400) {
      if (target.bulkId !== undefined) failed.add(target.bulkId)
      errors++
    }
    return failOnErrors !== undefined && errors >= failOnErrors
  }

  /** The operations `op` must wait for: POSTs not yet run, and cycle-broken POSTs not yet completed. */
  const blockers = (op: Op): Op[] => {
    const out: Op[] = []
    for (const r of op.refs) {
      const fixup = incomplete.get(r)
      if (fixup) {
        // Members of the cycle (and the fixups themselves) may use the id before the cycle is closed.
        const inCycle = op.fixupOf !== undefined || (op.bulkId !== undefined && [...incomplete.values()].some((f) => f.refs.has(op.bulkId as string)))
        if (!inCycle) out.push(fixup)
        continue
      }
      const post = posts.get(r)
      if (!ids.has(r) && !failed.has(r) && post !== undefined && post !== op && !results.has(post.index)) out.push(post)
    }
    return out
  }

  /** Whether following "waits for" edges from `op` leads back to it (a reference cycle). */
  const onCycle = (op: Op): boolean => {
    const seen = new Set<Op>()
    const stack = blockers(op)
    while (stack.length > 0) {
      const next = stack.pop() as Op
      if (next === op) return true
      if (seen.has(next)) continue
      seen.add(next)
      stack.push(...blockers(next))
    }
    return false
  }

  outer: while (pending.length > 0) {
    let progressed = false
    for (const op of [...pending]) {
      if (blockers(op).length > 0) continue // it references what a later POST creates (BLK-011)
      if (call.deadline.expired) stopped = true
      if (stopped) break outer
      pending = pending.filter((p) => p !== op)
      progressed = true
      if (await record(op, await run(op, op.data))) break outer
    }
    if (progressed) continue
    if (call.deadline.expired) {
      stopped = true
      break
    }
    // Every remaining operation waits on another: a reference cycle (BLK-040). Create one POST of
    // the cycle without the values that reference unresolved bulkIds, then patch them in.
    const op = pending.find((p) => p.method === 'POST' && typeof p.data === 'object' && p.data !== null && !Array.isArray(p.data) && onCycle(p))
    if (!op) {
      for (const p of pending) {
        const err = new ScimError(409, 'ERR_SCIM_CONFLICT', 'Circular bulkId references could not be resolved (RFC 7644 §3.7.1)')
        await record(p, errorResult(p.fixupOf ?? p, err, undefined))
      }
      pending = []
      break
    }
    pending = pending.filter((p) => p !== op)
    const data = op.data as Record<string, unknown>
    const base: Record<string, unknown> = {}
    const deferred: Record<string, unknown> = {}
    for (const k of Object.keys(data)) {
      const refs = new Set<string>()
      collectRefs(data[k], refs)
      const target = [...refs].some((r) => !ids.has(r)) ? deferred : base
      Object.defineProperty(target, k, { value: data[k], enumerable: true, writable: true, configurable: true })
    }
    const first = await run({ ...op, refs: new Set() }, base)
    if (Number(first.status) >= 400 || Object.keys(deferred).length === 0) {
      if (await record(op, first)) break
      continue
    }
    results.set(op.index, first)
    const segment = op.path.split('/').filter(Boolean)[0] as string
    const fixup: Op = {
      index: op.index,
      method: 'PATCH',
      path: `/${segment}/${encodeURIComponent(ids.get(op.bulkId as string) as string)}`,
      data: { Operations: Object.keys(deferred).map((k) => ({ op: 'replace', path: k, value: deferred[k] })) },
      refs: new Set(),
      fixupOf: op,
    }
    collectRefs(fixup.data, fixup.refs)
    incomplete.set(op.bulkId as string, fixup)
    pending.push(fixup)
  }
  // Stopped by failOnErrors with a cycle half done: undo it; it was not processed (BLK-030).
  for (const p of pending) {
    if (!p.fixupOf) continue
    await rollBack(p)
    results.delete(p.fixupOf.index)
  }

  if (stopped) {
    // AUTH-008: at the deadline every operation not performed is reported, so the client knows
    // exactly what was done and can retry the rest (RFC 7644 §3.7.3 per-operation errors).
    for (const op of ops) {
      if (results.has(op.index)) continue
      const result = deadlineResult(op, false)
      const resolved = op.method === 'POST' ? undefined : resolvePath(op.path, ids)
      if (resolved !== undefined) result.location = `${call.render.baseUrl}${resolved}`
      results.set(op.index, result)
    }
  }
  const operations = ops.filter((o) => results.has(o.index)).map((o) => results.get(o.index) as Result)
  return { status: 200, body: { schemas: [BULK_RESPONSE], Operations: operations } }
}
