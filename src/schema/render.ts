/**
 * Rendering a stored resource as SCIM JSON (RFC 7643 §3, RFC 7644 §3.4.2.5, §3.9): canonical
 * names in schema order, `schemas` computed from the data, `meta` with `location`, `$ref`
 * values generated from the base URL, `returned` characteristics and the
 * `attributes`/`excludedAttributes` projection. Pure functions.
 * @module
 */
import type { StoredResource } from '../adapter'
import { InvalidValueError } from '../errors'
import type { AttributeInfo, CompiledResourceType } from './registry'

/** A compiled `attributes`/`excludedAttributes` request. */
export interface Projection {
  readonly mode: 'default' | 'include' | 'exclude'
  /** Selected top-level attributes: `true` for the whole attribute, or the selected sub-attribute names. */
  readonly top: ReadonlyMap<AttributeInfo, true | ReadonlySet<string>>
  /** Whole extension containers selected by URN. */
  readonly extensions: ReadonlySet<string>
}

/** The default projection (no query parameters). */
export const DEFAULT_PROJECTION: Projection = { mode: 'default', top: new Map(), extensions: new Set() }

/**
 * Compile `attributes` or `excludedAttributes` (comma-separated lists, RFC 7644 §3.4.2.5). Unknown
 * names are ignored; a valuePath is treated as its attribute.
 * @throws InvalidValueError when both are given.
 */
export function compileProjection(
  rt: CompiledResourceType,
  attributes: readonly string[] | undefined,
  excluded: readonly string[] | undefined,
): Projection {
  const hasInclude = attributes !== undefined && attributes.length > 0
  const hasExclude = excluded !== undefined && excluded.length > 0
  if (hasInclude && hasExclude) {
    throw new InvalidValueError(`'attributes' and 'excludedAttributes' are mutually exclusive (RFC 7644 §3.9)`)
  }
  if (!hasInclude && !hasExclude) return DEFAULT_PROJECTION
  const top = new Map<AttributeInfo, true | Set<string>>()
  const extensions = new Set<string>()
  for (const raw of (hasInclude ? attributes : excluded) ?? []) {
    const text = raw.trim().replace(/\[[^\]]*\]/, '')
    if (!text) continue
    const resolved = rt.resolveText(text)
    if (!resolved) continue
    if (resolved.kind === 'extension') {
      extensions.add(resolved.extension.urn)
      continue
    }
    const info = resolved.info
    if (info.parent) {
      const current = top.get(info.parent)
      if (current === true) continue
      const subs = current ?? new Set<string>()
      subs.add(info.def.name)
      top.set(info.parent, subs)
    } else {
      top.set(info, true)
    }
  }
  return { mode: hasInclude ? 'include' : 'exclude', top, extensions }
}

/**
 * Top-level attribute names a projection never shows (for the adapter's `omit` hint): excluded
 * whole, or not selected by `attributes`. Undefined when everything may be shown.
 */
export function omittedAttributes(rt: CompiledResourceType, p: Projection): string[] | undefined {
  if (p.mode === 'default') return undefined
  const out: string[] = []
  for (const info of rt.ordered) {
    if (info.common || info.extension || info.def.returned === 'always') continue
    const sel = p.top.get(info)
    if (p.mode === 'exclude' ? sel === true : sel === undefined) out.push(info.def.name)
  }
  return out.length > 0 ? out : undefined
}

/** Where `$ref` values point and what `meta.location` is built from. */
export interface RenderContext {
  /** Absolute base URL without trailing slash, e.g. `https://example.com/scim/v2`. */
  readonly baseUrl: string
  /** Endpoint segment per resource type name (`User` → `Users`). */
  readonly segments: ReadonlyMap<string, string>
}

/** The `meta.location` of a resource (the id is percent-encoded). */
export function locationOf(ctx: RenderContext, rt: CompiledResourceType, id: string): string {
  return `${ctx.baseUrl}/${rt.segment}/${encodeURIComponent(id)}`
}

/** Weak ETag for a version (RFC 7232 §2.3). */
export function etagOf(version: string): string {
  return `W/"${version}"`
}

const DERIVED_REF: Record<string, string> = { members: 'type', groups: 'Group', manager: 'User' }

function withRefs(info: AttributeInfo, value: unknown, ctx: RenderContext): unknown {
  const rule = DERIVED_REF[info.def.name]
  if (!rule || !info.children?.has('$ref')) return value
  const one = (v: Record<string, unknown>): Record<string, unknown> => {
    const id = v['value']
    const typeName = rule === 'type' ? (v['type'] as string | undefined) : rule
    const segment = typeName ? ctx.segments.get(typeName) : undefined
    if (typeof id !== 'string' || !segment) return v
    const out: Record<string, unknown> = { value: id, $ref: `${ctx.baseUrl}/${segment}/${encodeURIComponent(id)}` }
    for (const k of Object.keys(v)) if (k !== 'value' && k !== '$ref') out[k] = v[k]
    return out
  }
  if (Array.isArray(value)) return value.map((v) => one(v as Record<string, unknown>))
  if (typeof value === 'object' && value !== null) return one(value as Record<string, unknown>)
  return value
}

function pick(value: unknown, subs: ReadonlySet<string>, keep: boolean): unknown {
  const project = (v: Record<string, unknown>): Record<string, unknown> | undefined => {
    const out: Record<string, unknown> = {}
    let any = false
    for (const k of Object.keys(v)) {
      if (subs.has(k) === keep) {
        out[k] = v[k]
        any = true
      }
    }
    return any ? out : undefined
  }
  if (Array.isArray(value)) {
    const list = value.map((v) => project(v as Record<string, unknown>)).filter((v) => v !== undefined)
    return list.length > 0 ? list : undefined
  }
  if (typeof value === 'object' && value !== null) return project(value as Record<string, unknown>)
  return value
}

/** Decide what to emit for one top-level attribute value under a projection. */
function project(info: AttributeInfo, value: unknown, p: Projection, requested: ReadonlySet<string> | undefined): unknown {
  const returned = info.def.returned
  if (returned === 'never') return undefined
  if (returned === 'always') return value
  const sel = p.top.get(info)
  const extSelected = info.extension && p.extensions.has(info.schema)
  switch (p.mode) {
    case 'default':
      if (returned === 'request' && !requested?.has(info.path)) return undefined
      return stripNever(info, value)
    case 'include':
      if (extSelected || sel === true) return stripNever(info, value)
      if (sel) return pick(stripNever(info, value), sel, true)
      return undefined
    case 'exclude':
      if (extSelected || sel === true) return undefined
      if (returned === 'request') return undefined
      if (sel) return pick(stripNever(info, value), sel, false)
      return stripNever(info, value)
  }
}

/** True when the projection drops the whole attribute, so nothing needs to be built for it. */
function hiddenWhole(info: AttributeInfo, p: Projection): boolean {
  const returned = info.def.returned
  if (returned === 'always') return false
  if (returned === 'never') return true
  if (p.mode === 'default') return false
  const sel = p.top.get(info)
  const ext = info.extension && p.extensions.has(info.schema)
  return p.mode === 'exclude' ? sel === true || ext : sel === undefined && !ext
}

const neverChildren = new WeakMap<AttributeInfo, ReadonlySet<string> | null>()

function stripNever(info: AttributeInfo, value: unknown): unknown {
  if (!info.children) return value
  let never = neverChildren.get(info)
  if (never === undefined) {
    const names = [...info.children.values()].filter((c) => c.def.returned === 'never').map((c) => c.def.name)
    never = names.length > 0 ? new Set(names) : null
    neverChildren.set(info, never)
  }
  return never ? pick(value, never, false) : value
}

/**
 * Render a stored resource. `requested` holds the paths the client sent on a write, which makes
 * `returned: "request"` attributes visible (RFC 7643 §7).
 */
export function renderResource(
  rt: CompiledResourceType,
  stored: StoredResource,
  ctx: RenderContext,
  projection: Projection = DEFAULT_PROJECTION,
  requested?: ReadonlySet<string>,
): Record<string, unknown> {
  const attrs = stored.attributes
  const out: Record<string, unknown> = { schemas: [rt.coreSchema.id] }
  const schemas = out['schemas'] as string[]
  out['id'] = stored.id
  const location = locationOf(ctx, rt, stored.id)
  const containers = new Map<string, Record<string, unknown>>()
  let meta: unknown // emitted last, as in the RFC examples
  for (const info of rt.ordered) {
    const name = info.def.name
    let value: unknown
    if (info.common) {
      if (name === 'externalId') value = attrs['externalId']
      else if (name === 'meta') {
        value = {
          resourceType: rt.name,
          created: stored.created.toISOString(),
          lastModified: stored.lastModified.toISOString(),
          location,
          version: etagOf(stored.version),
        }
      } else continue
    } else if (info.extension) {
      const container = attrs[info.schema] as Record<string, unknown> | undefined
      value = container?.[name]
    } else {
      value = attrs[name]
    }
    if (value === undefined || value === null) continue
    if (hiddenWhole(info, projection)) continue // decided before building $ref values (10k-member groups)
    const shown = project(info, withRefs(info, value, ctx), projection, requested)
    if (shown === undefined) continue
    if (info.extension) {
      let c = containers.get(info.schema)
      if (!c) containers.set(info.schema, (c = {}))
      c[name] = shown
    } else if (name === 'meta') {
      meta = shown
    } else {
      out[name] = shown
    }
  }
  for (const [urn, c] of containers) {
    schemas.push(urn)
    out[urn] = c
  }
  if (meta !== undefined) out['meta'] = meta
  return out
}
