/**
 * The PatchOp message (RFC 7644 §3.5.2): envelope validated with one compiled Ajv validator,
 * member names and `op` values matched case-insensitively (RFC 7643 §2.1; Entra's `Add`/`Replace`/
 * `Remove`), paths parsed with the grammar's `Path` rule and resolved against the schema.
 * @module
 */
import Ajv from 'ajv'
import { InvalidSyntaxError, InvalidValueError, NoTargetError, TooManyError } from '../errors'
import type { PatchPath } from '../filter/ast'
import { DEFAULT_FILTER_LIMITS, freezeTree, Lru, parsePath } from '../filter/parse'
import type { FilterLimits } from '../options'
import type { CompiledResourceType, ExtensionInfo } from '../schema/registry'

/** One normalised PATCH operation. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace'
  /** Resolved path; absent for path-less add/replace. */
  path?: PatchPath
  /** A path that names a whole extension container (`urn:…:enterprise:2.0:User`). */
  extension?: ExtensionInfo
  /** The raw path text, for messages. */
  pathText?: string
  /** Whether the operation carried a `value` member. */
  hasValue: boolean
  value?: unknown
}

const ajv = new Ajv({ allErrors: false, strict: true })

/** The envelope after member names are lower-cased. */
const validateEnvelope = ajv.compile({
  type: 'object',
  required: ['operations'],
  properties: {
    schemas: { type: 'array', items: { type: 'string' } },
    operations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['op'],
        properties: { op: { type: 'string' }, path: { type: 'string' } },
      },
    },
  },
})

/**
 * Lower-case an object's member names; two spellings of one name are a syntax error. Members are
 * defined, not assigned, so a client's `"__proto__"` member stays an own data property and never
 * becomes the prototype the PatchOp fields are then inherited from.
 */
function lowerKeys(obj: Record<string, unknown>, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(obj)) {
    const lower = key.toLowerCase()
    if (Object.prototype.hasOwnProperty.call(out, lower)) throw new InvalidSyntaxError(`${what}: member '${key}' appears more than once`)
    Object.defineProperty(out, lower, { value: obj[key], enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** Default most operations one PatchOp message may carry (the RFC's bulk `maxOperations` default). */
export const DEFAULT_MAX_PATCH_OPERATIONS = 1000

const OPS = new Set(['add', 'remove', 'replace'])

/** One operation as sent, its member names matched case-insensitively. Internal. */
export interface RawOperation {
  op: string
  path: string | undefined
  hasValue: boolean
  value: unknown
}

/** The envelope as sent, its member names matched case-insensitively, shape-checked. Internal. */
export interface Envelope {
  schemas: string[] | undefined
  operations: RawOperation[]
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Most members an envelope or an operation may have for {@link readEnvelope}, whose check for a
 * member spelled twice is quadratic: an object with more (never a well-formed message) takes the
 * linear {@link checkedEnvelope}.
 */
const MAX_MEMBERS = 8

/**
 * The envelope of a well-formed message, read without copying it: member names lower-cased one by
 * one, the shape checked by hand. Returns undefined for anything else (a member spelled twice, a
 * missing or mistyped member, more than {@link MAX_MEMBERS} members), which {@link checkedEnvelope}
 * then rejects with its Ajv message (or accepts, for many members); what this accepts is exactly
 * what that accepts, with the same result (a property test checks it). Internal.
 */
export function readEnvelope(body: Record<string, unknown>): Envelope | undefined {
  let schemas: unknown
  let operations: unknown
  const keys = Object.keys(body)
  if (keys.length > MAX_MEMBERS) return undefined
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const lower = key.toLowerCase()
    for (let j = 0; j < i; j++) if ((keys[j] as string).toLowerCase() === lower) return undefined
    if (lower === 'schemas') schemas = body[key]
    else if (lower === 'operations') operations = body[key]
  }
  if (!Array.isArray(operations) || operations.length === 0) return undefined
  if (schemas !== undefined) {
    if (!Array.isArray(schemas)) return undefined
    for (const x of schemas) if (typeof x !== 'string') return undefined
  }
  const ops: RawOperation[] = new Array(operations.length)
  for (let n = 0; n < operations.length; n++) {
    const o: unknown = operations[n]
    if (!isObject(o)) return undefined
    const raw: RawOperation = { op: '', path: undefined, hasValue: false, value: undefined }
    let op: unknown
    const names = Object.keys(o)
    if (names.length > MAX_MEMBERS) return undefined
    for (let i = 0; i < names.length; i++) {
      const key = names[i] as string
      const lower = key.toLowerCase()
      for (let j = 0; j < i; j++) if ((names[j] as string).toLowerCase() === lower) return undefined
      if (lower === 'op') op = o[key]
      else if (lower === 'path') {
        const path = o[key]
        if (path !== undefined && typeof path !== 'string') return undefined
        raw.path = path
      } else if (lower === 'value') {
        raw.hasValue = true
        raw.value = o[key]
      }
    }
    if (typeof op !== 'string') return undefined
    raw.op = op
    ops[n] = raw
  }
  return { schemas: schemas as string[] | undefined, operations: ops }
}

/**
 * The envelope through the member-name copy and the compiled Ajv validator: the error for a
 * malformed message (a member spelled twice, a missing or mistyped member).
 * @throws InvalidSyntaxError naming the member. Internal.
 */
export function checkedEnvelope(body: Record<string, unknown>): Envelope {
  const envelope = lowerKeys(body, 'PatchOp')
  const ops = envelope['operations']
  if (Array.isArray(ops)) envelope['operations'] = ops.map((o) => (isObject(o) ? lowerKeys(o, 'Operation') : o))
  if (!validateEnvelope(envelope)) {
    const e = validateEnvelope.errors?.[0]
    const where = e?.instancePath ? e.instancePath.replace(/^\/operations/, 'Operations') : 'PatchOp'
    throw new InvalidSyntaxError(`Invalid PatchOp message: ${where} ${e?.message ?? 'is invalid'} (RFC 7644 §3.5.2)`)
  }
  return {
    schemas: envelope['schemas'] as string[] | undefined,
    operations: (envelope['operations'] as Record<string, unknown>[]).map((raw) => ({
      op: raw['op'] as string,
      path: raw['path'] as string | undefined,
      hasValue: Object.prototype.hasOwnProperty.call(raw, 'value'),
      value: raw['value'],
    })),
  }
}

/** What a path names: a whole extension container, or an attribute (a resolved path). */
type Target = { readonly extension: ExtensionInfo; readonly path?: undefined } | { readonly path: PatchPath; readonly extension?: undefined }

/** Entries per resource type in the path cache. */
const PATH_CACHE_SIZE = 512
const targets = new WeakMap<CompiledResourceType, Lru<Target>>()

/**
 * Resolve a path's text against the resource type, cached per resource type, limits and text (a
 * bounded LRU of successes; a bad path is an error every time). IdPs send the same few paths
 * (`active`, `members`, `emails[type eq "work"].value`) on every request. Cached targets are
 * frozen (their filter trees too; the registry's AttributeInfo/ExtensionInfo are not ours to
 * freeze).
 */
function resolveTarget(rt: CompiledResourceType, text: string, limits: Required<FilterLimits>): Target {
  let cache = targets.get(rt)
  if (!cache) {
    cache = new Lru<Target>(PATH_CACHE_SIZE)
    targets.set(rt, cache)
  }
  const key = `${limits.maxLength},${limits.maxDepth},${limits.maxTerms},${text}`
  const hit = cache.get(key)
  if (hit) return hit
  const whole = rt.resolveText(text.trim())
  let target: Target
  if (whole?.kind === 'extension') target = Object.freeze({ extension: whole.extension })
  else {
    const path = parsePath(text, rt, limits)
    if (path.filter) freezeTree(path.filter)
    target = Object.freeze({ path: Object.freeze(path) })
  }
  cache.set(key, target)
  return target
}

/**
 * Validate and normalise a PatchOp body.
 * @throws InvalidSyntaxError for a malformed envelope or an unknown `op`.
 * @throws InvalidPathError / InvalidFilterError for a bad `path` (RFC 7644 Table 9).
 * @throws InvalidValueError when add/replace has no `value`.
 * @throws NoTargetError for a remove without `path` (RFC 7644 §3.5.2.2).
 * @throws TooManyError (400 tooMany) for more than `maxOperations` operations.
 */
export function parsePatchRequest(
  rt: CompiledResourceType,
  body: Record<string, unknown>,
  limits: FilterLimits,
  strict: boolean,
  maxOperations: number = DEFAULT_MAX_PATCH_OPERATIONS,
): PatchOperation[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidSyntaxError('The PatchOp message must be a JSON object (RFC 7644 §3.5.2)')
  const envelope = readEnvelope(body) ?? checkedEnvelope(body)
  const count = envelope.operations.length
  if (count > maxOperations) {
    throw new TooManyError(`The PatchOp message has ${count} operations; this server accepts at most ${maxOperations} per request`)
  }
  if (strict) {
    if (!envelope.schemas?.some((s) => s.toLowerCase() === 'urn:ietf:params:scim:api:messages:2.0:patchop')) {
      throw new InvalidSyntaxError(`The PatchOp message must list urn:ietf:params:scim:api:messages:2.0:PatchOp in 'schemas'`)
    }
  }
  const l = { ...DEFAULT_FILTER_LIMITS, ...limits }
  return envelope.operations.map((raw, i) => {
    const op = raw.op.toLowerCase()
    if (!OPS.has(op)) throw new InvalidSyntaxError(`Operations[${i}]: unsupported op '${raw.op}'; use add, remove or replace`)
    const out: PatchOperation = { op: op as PatchOperation['op'], hasValue: raw.hasValue }
    if (out.hasValue) out.value = raw.value
    const text = raw.path
    if (text !== undefined && text.trim() !== '') {
      out.pathText = text
      const target = resolveTarget(rt, text, l)
      if (target.extension) out.extension = target.extension
      else out.path = target.path
    } else if (op === 'remove') {
      throw new NoTargetError(`Operations[${i}]: remove requires a 'path' (RFC 7644 §3.5.2.2)`)
    }
    if (op !== 'remove' && !out.hasValue) throw new InvalidValueError(`Operations[${i}]: ${op} requires a 'value' (RFC 7644 §3.5.2.1)`)
    if (op !== 'remove' && !out.path && !out.extension && (typeof out.value !== 'object' || out.value === null || Array.isArray(out.value))) {
      throw new InvalidValueError(`Operations[${i}]: ${op} without a path needs an object 'value'`)
    }
    return out
  })
}
