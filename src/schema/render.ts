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
 * How one top-level attribute is shown under a projection, decided once per resource type and
 * projection (and, on writes, the paths the client sent), not once per resource:
 * `as-is` (returned always), `strip` (drop `returned: "never"` sub-attributes) or `pick`
 * (keep or drop the selected sub-attributes after stripping).
 */
interface Step {
  readonly info: AttributeInfo
  readonly name: string
  /** The extension container the value is in (its URN), or undefined for a core attribute. */
  readonly container: string | undefined
  /** Build `$ref` values (derived `members`, `groups`, `manager`). */
  readonly refs: boolean
  readonly show: 'as-is' | 'strip' | 'pick'
  readonly subs?: ReadonlySet<string>
  readonly keep?: boolean
}

interface Plan {
  readonly steps: readonly Step[]
  /** Emit `externalId` (RFC 7643 §3.1), and `meta` last, as in the RFC examples. */
  readonly externalId: boolean
  readonly meta: Step | undefined
  /** Some attribute is `returned: "request"` and the mode is default: the plan depends on the paths sent. */
  readonly byRequest: boolean
}

/** The step of one attribute, or undefined when the projection never shows it. */
function stepOf(info: AttributeInfo, p: Projection, requested: ReadonlySet<string> | undefined): Step | undefined {
  const returned = info.def.returned
  if (returned === 'never') return undefined
  const base = { info, name: info.def.name, container: info.extension ? info.schema : undefined, refs: !!DERIVED_REF[info.def.name] && !!info.children?.has('$ref') }
  if (returned === 'always') return { ...base, show: 'as-is' }
  const sel = p.top.get(info)
  const extSelected = info.extension && p.extensions.has(info.schema)
  switch (p.mode) {
    case 'default':
      return returned === 'request' && !requested?.has(info.path) ? undefined : { ...base, show: 'strip' }
    case 'include':
      if (extSelected || sel === true) return { ...base, show: 'strip' }
      return sel ? { ...base, show: 'pick', subs: sel, keep: true } : undefined
    case 'exclude':
      if (extSelected || sel === true || returned === 'request') return undefined
      return sel ? { ...base, show: 'pick', subs: sel, keep: false } : { ...base, show: 'strip' }
  }
}

function compilePlan(rt: CompiledResourceType, p: Projection, requested: ReadonlySet<string> | undefined): Plan {
  const steps: Step[] = []
  let externalId = false
  let meta: Step | undefined
  let byRequest = false
  for (const info of rt.ordered) {
    if (p.mode === 'default' && info.def.returned === 'request') byRequest = true
    const step = stepOf(info, p, requested)
    if (!step) continue
    if (info.common) {
      if (step.name === 'externalId') externalId = true
      else if (step.name === 'meta') meta = step
      continue // id and schemas are always built
    }
    steps.push(step)
  }
  return { steps, externalId, meta, byRequest }
}

/** Plans of the projections in use (lists render 100 resources with one). */
const plans = new WeakMap<Projection, WeakMap<CompiledResourceType, Plan>>()

function planFor(rt: CompiledResourceType, p: Projection, requested: ReadonlySet<string> | undefined): Plan {
  let byType = plans.get(p)
  if (!byType) plans.set(p, (byType = new WeakMap()))
  let plan = byType.get(rt)
  if (!plan) byType.set(rt, (plan = compilePlan(rt, p, undefined)))
  // A write's answer shows the `returned: "request"` attributes it sent: its own plan, once.
  return plan.byRequest && requested !== undefined && requested.size > 0 ? compilePlan(rt, p, requested) : plan
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
  const plan = planFor(rt, projection, requested)
  const attrs = stored.attributes
  const schemas = [rt.coreSchema.id]
  const out: Record<string, unknown> = { schemas, id: stored.id }
  if (plan.externalId) {
    const v = attrs['externalId']
    if (v !== undefined && v !== null) out['externalId'] = v
  }
  let containers: Map<string, Record<string, unknown>> | undefined
  for (const step of plan.steps) {
    let value: unknown
    if (step.container !== undefined) {
      const container = attrs[step.container] as Record<string, unknown> | undefined
      value = container?.[step.name]
    } else value = attrs[step.name]
    if (value === undefined || value === null) continue
    const shown = show(step, step.refs ? withRefs(step.info, value, ctx) : value)
    if (shown === undefined) continue
    if (step.container !== undefined) {
      containers ??= new Map()
      let c = containers.get(step.container)
      if (!c) containers.set(step.container, (c = {}))
      c[step.name] = shown
    } else out[step.name] = shown
  }
  if (containers) {
    for (const [urn, c] of containers) {
      schemas.push(urn)
      out[urn] = c
    }
  }
  if (plan.meta) {
    const meta = show(plan.meta, {
      resourceType: rt.name,
      created: stored.created.toISOString(),
      lastModified: stored.lastModified.toISOString(),
      location: locationOf(ctx, rt, stored.id),
      version: etagOf(stored.version),
    })
    if (meta !== undefined) out['meta'] = meta
  }
  return out
}

function show(step: Step, value: unknown): unknown {
  if (step.show === 'as-is') return value
  const stripped = stripNever(step.info, value)
  return step.show === 'strip' ? stripped : pick(stripped, step.subs as ReadonlySet<string>, step.keep as boolean)
}
