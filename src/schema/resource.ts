/**
 * Request bodies to stored attributes (RFC 7643 §2–§4, RFC 7644 §3.3, §3.5.1): case-insensitive
 * names, canonical output, readOnly attributes ignored, extension containers and Entra's flat
 * URN-qualified keys, required attributes, and PUT's attribute-by-attribute replacement rules.
 * @module
 */
import { InvalidSyntaxError, InvalidValueError, MutabilityError } from '../errors'
import type { AttributeInfo, CompiledResourceType, ExtensionInfo } from './registry'
import { UNASSIGNED, deepEqual, own, parseValue, type ValueOptions } from './values'

/** Options for turning a body into attributes. */
export interface BodyOptions extends ValueOptions {
  /** Reject unknown attributes and a missing `schemas` (RFC 7643 §3). */
  strictSchema: boolean
}

/** Stored attribute set: canonical core names, `externalId`, extension containers keyed by URN. */
export type Attributes = Record<string, unknown>

/**
 * Validate a POST/PUT body for a resource type and return the attributes the client may write.
 * @throws InvalidSyntaxError when `schemas` is malformed or a name appears twice in different case.
 * @throws InvalidValueError on a wrong type, or a `schemas` lacking the endpoint's core URN.
 */
export function parseResourceBody(rt: CompiledResourceType, body: Record<string, unknown>, opts: BodyOptions): Attributes {
  checkSchemas(rt, body, opts)
  const core: Attributes = {}
  const ext = new Map<ExtensionInfo, Attributes>()
  const flat = new Map<AttributeInfo, unknown>() // EXT-005: URN-qualified flat keys win
  const bare = new Map<AttributeInfo, unknown>() // EXT-006: bare extension names lose
  const seen = new Set<string>()
  const unknown: string[] = []

  for (const key of Object.keys(body)) {
    const lower = key.toLowerCase()
    if (seen.has(lower)) throw new InvalidSyntaxError(`Attribute '${key}' appears more than once with different letter case`)
    seen.add(lower)
    if (lower === 'schemas') continue
    const value = body[key]
    const container = rt.extensions.get(lower)
    if (container) {
      if (value === null) {
        ext.set(container, {})
        continue
      }
      if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidValueError(`Extension '${container.urn}' must be an object`)
      ext.set(container, parseAttributes(container.attributes, value as Record<string, unknown>, opts, unknown, container.urn + ':'))
      continue
    }
    const info = resolveKey(rt, key)
    if (!info) {
      unknown.push(key)
      continue
    }
    if (info.extension) {
      if (key.includes(':')) flat.set(info, value)
      else bare.set(info, value)
      continue
    }
    assign(core, info, value, opts)
  }
  for (const [info, value] of bare) assignExtension(rt, ext, info, value, opts, false)
  for (const [info, value] of flat) assignExtension(rt, ext, info, value, opts, true)
  if (opts.strictSchema && unknown.length > 0) {
    throw new InvalidValueError(`Unknown attribute(s): ${unknown.join(', ')}`)
  }
  for (const [container, attrs] of ext) if (Object.keys(attrs).length > 0) core[container.urn] = attrs
  return core
}

function resolveKey(rt: CompiledResourceType, key: string): AttributeInfo | undefined {
  if (key.includes(':')) {
    const r = rt.resolveText(key)
    return r?.kind === 'attribute' && !r.info.parent ? r.info : undefined
  }
  try {
    const info = rt.resolve(undefined, key)
    return info && !info.parent ? info : undefined
  } catch {
    return undefined // ambiguous bare name: ignored (EXT-006)
  }
}

function assignExtension(
  rt: CompiledResourceType,
  ext: Map<ExtensionInfo, Attributes>,
  info: AttributeInfo,
  value: unknown,
  opts: BodyOptions,
  override: boolean,
): void {
  const container = rt.extensions.get(info.schema.toLowerCase())
  if (!container) return
  let attrs = ext.get(container)
  if (!attrs) ext.set(container, (attrs = {}))
  if (!override && own.call(attrs, info.def.name)) return
  delete attrs[info.def.name]
  assign(attrs, info, value, opts)
}

function assign(target: Attributes, info: AttributeInfo, value: unknown, opts: BodyOptions): void {
  if (info.common) {
    if (info.def.name !== 'externalId') return // id, meta, schemas: readOnly, ignored (EP-012)
  } else if (info.def.mutability === 'readOnly') {
    return // RES-042
  }
  const parsed = parseValue(info, value, opts)
  if (parsed !== UNASSIGNED) target[info.def.name] = parsed
}

function parseAttributes(
  attributes: ReadonlyMap<string, AttributeInfo>,
  body: Record<string, unknown>,
  opts: BodyOptions,
  unknown: string[],
  prefix: string,
): Attributes {
  const out: Attributes = {}
  const seen = new Set<string>()
  for (const key of Object.keys(body)) {
    const lower = key.toLowerCase()
    if (seen.has(lower)) throw new InvalidSyntaxError(`Attribute '${prefix}${key}' appears more than once with different letter case`)
    seen.add(lower)
    const info = attributes.get(lower)
    if (!info) {
      unknown.push(prefix + key)
      continue
    }
    assign(out, info, body[key], opts)
  }
  return out
}

function checkSchemas(rt: CompiledResourceType, body: Record<string, unknown>, opts: BodyOptions): void {
  let schemas: unknown
  let present = false
  for (const key of Object.keys(body)) {
    if (key.toLowerCase() === 'schemas') {
      schemas = body[key]
      present = true
    }
  }
  if (!present || schemas === null) {
    if (opts.strictSchema) throw new InvalidSyntaxError(`The 'schemas' attribute is required (RFC 7643 §3)`)
    return
  }
  if (!Array.isArray(schemas) || schemas.some((s) => typeof s !== 'string')) {
    throw new InvalidSyntaxError(`The 'schemas' attribute must be an array of strings`)
  }
  if (schemas.length === 0) return
  const core = rt.coreSchema.id.toLowerCase()
  if (!schemas.some((s: string) => s.toLowerCase() === core)) {
    throw new InvalidValueError(`The 'schemas' attribute must include ${rt.coreSchema.id} for the ${rt.name} endpoint`)
  }
}

/**
 * Required core attributes (non-empty strings stay required), and required extensions with their
 * required attributes (RFC 7643 §6).
 * @throws InvalidValueError naming the first missing attribute.
 */
export function assertRequired(rt: CompiledResourceType, attrs: Attributes): void {
  for (const info of rt.core.values()) {
    if (info.def.required && isMissing(attrs[info.def.name])) {
      throw new InvalidValueError(`Required attribute '${info.path}' is missing`)
    }
  }
  for (const ext of rt.extensions.values()) {
    const container = attrs[ext.urn] as Attributes | undefined
    if (ext.required && !container) throw new InvalidValueError(`Required extension '${ext.urn}' is missing`)
    if (!container) continue
    for (const info of ext.attributes.values()) {
      if (info.def.required && isMissing(container[info.def.name])) {
        throw new InvalidValueError(`Required attribute '${info.path}' is missing`)
      }
    }
  }
}

function isMissing(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)
}

/** What PUT keeps from the stored resource when the body omits it (RFC 7644 §3.5.1). */
export interface PutOptions {
  /** Canonical paths kept when omitted, e.g. `active`, `password` (defaults) plus host `putPreserve`. */
  preserve: ReadonlySet<string>
}

/**
 * PUT (RFC 7644 §3.5.1): readWrite/writeOnly attributes are replaced (omitted ones cleared, except
 * {@link PutOptions.preserve}); readOnly ones kept; immutable ones must match when already set.
 * @throws MutabilityError when an immutable attribute would change.
 */
export function applyPut(rt: CompiledResourceType, stored: Attributes, incoming: Attributes, opts: PutOptions): Attributes {
  const result: Attributes = {}
  const mergeLevel = (
    attributes: Iterable<AttributeInfo>,
    from: Attributes | undefined,
    into: Attributes,
    target: Attributes,
  ): void => {
    for (const info of attributes) {
      const name = info.def.name
      if (info.common && name !== 'externalId') continue
      const old = from?.[name]
      const has = own.call(into, name)
      if (info.def.mutability === 'readOnly') {
        if (old !== undefined) target[name] = old
        continue
      }
      if (info.def.mutability === 'immutable') {
        if (has && old !== undefined && !deepEqual(old, into[name])) {
          throw new MutabilityError(`Attribute '${info.path}' is immutable and already set`)
        }
        if (has) target[name] = into[name]
        else if (old !== undefined) target[name] = old
        continue
      }
      if (has) target[name] = into[name]
      else if (old !== undefined && opts.preserve.has(info.path)) target[name] = old
    }
  }
  mergeLevel(rt.core.values(), stored, incoming, result)
  for (const ext of rt.extensions.values()) {
    const target: Attributes = {}
    mergeLevel(ext.attributes.values(), stored[ext.urn] as Attributes | undefined, (incoming[ext.urn] as Attributes | undefined) ?? {}, target)
    if (Object.keys(target).length > 0) result[ext.urn] = target
  }
  return result
}
