/**
 * The PatchOp message (RFC 7644 §3.5.2): envelope validated with one compiled Ajv validator,
 * member names and `op` values matched case-insensitively (RFC 7643 §2.1; Entra's `Add`/`Replace`/
 * `Remove`), paths parsed with the grammar's `Path` rule and resolved against the schema.
 * @module
 */
import Ajv from 'ajv'
import { InvalidSyntaxError, InvalidValueError, NoTargetError, TooManyError } from '../errors'
import type { PatchPath } from '../filter/ast'
import { parsePath } from '../filter/parse'
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
  const envelope = lowerKeys(body, 'PatchOp')
  const ops = envelope['operations']
  if (Array.isArray(ops)) envelope['operations'] = ops.map((o) => (typeof o === 'object' && o !== null && !Array.isArray(o) ? lowerKeys(o as Record<string, unknown>, 'Operation') : o))
  if (!validateEnvelope(envelope)) {
    const e = validateEnvelope.errors?.[0]
    const where = e?.instancePath ? e.instancePath.replace(/^\/operations/, 'Operations') : 'PatchOp'
    throw new InvalidSyntaxError(`Invalid PatchOp message: ${where} ${e?.message ?? 'is invalid'} (RFC 7644 §3.5.2)`)
  }
  const count = (envelope['operations'] as unknown[]).length
  if (count > maxOperations) {
    throw new TooManyError(`The PatchOp message has ${count} operations; this server accepts at most ${maxOperations} per request`)
  }
  if (strict) {
    const schemas = envelope['schemas'] as string[] | undefined
    if (!schemas?.some((s) => s.toLowerCase() === 'urn:ietf:params:scim:api:messages:2.0:patchop')) {
      throw new InvalidSyntaxError(`The PatchOp message must list urn:ietf:params:scim:api:messages:2.0:PatchOp in 'schemas'`)
    }
  }
  return (envelope['operations'] as Record<string, unknown>[]).map((raw, i) => {
    const op = String(raw['op']).toLowerCase()
    if (!OPS.has(op)) throw new InvalidSyntaxError(`Operations[${i}]: unsupported op '${String(raw['op'])}'; use add, remove or replace`)
    const out: PatchOperation = { op: op as PatchOperation['op'], hasValue: Object.prototype.hasOwnProperty.call(raw, 'value') }
    if (out.hasValue) out.value = raw['value']
    const text = raw['path'] as string | undefined
    if (text !== undefined && text.trim() !== '') {
      out.pathText = text
      const whole = rt.resolveText(text.trim())
      if (whole?.kind === 'extension') out.extension = whole.extension
      else out.path = parsePath(text, rt, limits)
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
