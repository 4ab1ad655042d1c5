/**
 * `applyPatch()`: the RFC 7644 §3.5.2 PATCH engine. Pure: it takes the stored attributes and the
 * normalised operations and returns the new attributes, or throws, so a failing operation never
 * leaves a half-applied change. Operations apply in order.
 *
 * Deliberate interoperability (README "IdP compatibility"), off where `strict` says so:
 * - `replace`/`add` on `attr[filter].sub` that selects nothing creates the element from the
 *   filter's `eq` terms (Entra);
 * - `remove` on a multi-valued attribute with a `value` removes only the listed values (Entra's
 *   `Remove members`);
 * - path-less values may use attribute paths as keys (`name.givenName`, `urn:…:User:department`,
 *   as Entra sends them), and read-only values equal to the stored ones (Okta's `id`) are ignored.
 * @module
 */
import { InvalidPathError, InvalidValueError, MutabilityError, NoTargetError, isScimError } from '../errors'
import type { FilterNode, PatchPath } from '../filter/ast'
import { compileElementFilter } from '../filter/evaluate'
import type { AttributeInfo, CompiledResourceType, ExtensionInfo } from '../schema/registry'
import { assertRequired, type Attributes } from '../schema/resource'
import { UNASSIGNED, deepEqual, normalisePrimary, parseElement, parseValue, sameValueKey, type ValueOptions } from '../schema/values'
import type { PatchOperation } from './operations'

/** Options of {@link applyPatch}. */
export interface PatchOptions extends ValueOptions {
  /**
   * Unknown attributes in path-less values: ignored beside known ones (default), or rejected with
   * InvalidPathError. Either way, an operation none of whose attributes exist is InvalidPathError.
   */
  strictSchema: boolean
}

/** Result of {@link applyPatch}. */
export interface PatchResult {
  attributes: Attributes
  /** False when the operations left the resource as it was (RFC 7644 §3.5.2.1, §3.5.2.2). */
  changed: boolean
  /** Canonical paths the operations wrote, for `returned: "request"` attributes (RFC 7643 §7). */
  touched: Set<string>
}

type Element = Record<string, unknown>

interface State {
  rt: CompiledResourceType
  attrs: Attributes
  id: string
  opts: PatchOptions
  touched: Set<string>
  /**
   * Copy on write: `attrs` starts as a shallow copy of the stored attributes, sharing every value
   * with them; an extension container is copied (shallowly) the first time an operation writes
   * into it, and these are its URNs. Values are never written in place: an operation builds a new
   * list or object and copies only the elements it changes (see {@link primaryOnly}), so a PATCH
   * of `active` copies nothing else and one that removes a member copies only the list.
   */
  owned: Set<string>
  /** The keys of the current operation's value that name an attribute, and those that name none. */
  keys: { known: number; unknown: string[] }
}

/**
 * Apply PATCH operations to a copy of `current` (writable attributes, canonical names); `current`
 * is never written, and the result shares with it every value no operation changed: attributes no
 * operation wrote, and the unchanged elements of a multi-valued attribute one did (a member
 * removed from a 100,000-member group copies the list, not the members). Treat both as immutable.
 * @throws MutabilityError, NoTargetError, InvalidPathError, InvalidValueError (see RFC 7644 §3.5.2).
 */
export function applyPatch(
  rt: CompiledResourceType,
  id: string,
  current: Attributes,
  operations: readonly PatchOperation[],
  opts: PatchOptions,
): PatchResult {
  const s: State = { rt, attrs: { ...current }, id, opts, touched: new Set(), owned: new Set(), keys: { known: 0, unknown: [] } }
  operations.forEach((op, i) => {
    try {
      s.keys = { known: 0, unknown: [] }
      if (op.extension) applyExtension(s, op.op, op.extension, op.value)
      else if (op.path) applyPath(s, op.op, op.path, op.value, op.hasValue)
      else applyPathless(s, op.op, op.value as Record<string, unknown>)
      // PAT-006: an operation that names only attributes that do not exist (a typo such as
      // `actve`) would silently change nothing while the client believes it applied; unknown keys
      // beside known ones are ignored unless strictSchema (RES-005).
      if (s.keys.known === 0 && s.keys.unknown.length > 0) {
        const names = s.keys.unknown.map((k) => `'${k}'`).join(', ')
        throw new InvalidPathError(`No attribute named ${names} exists for resource type ${rt.name}; the operation would change nothing`)
      }
    } catch (err) {
      // Issue 4: the error names the failing operation.
      if (isScimError(err)) err.message = `Operations[${i}] (${op.op}${op.pathText ? ` ${op.pathText}` : ''}): ${err.message}`
      throw err
    }
  })
  for (const ext of rt.extensions.values()) {
    const c = s.attrs[ext.urn]
    if (c !== undefined && (typeof c !== 'object' || c === null || Object.keys(c).length === 0)) delete s.attrs[ext.urn]
  }
  assertRequired(rt, s.attrs)
  return { attributes: s.attrs, changed: !deepEqual(s.attrs, current), touched: s.touched }
}

/** The object that holds a top-level attribute, for reading: the resource, or its extension container. */
function peek(s: State, top: AttributeInfo): Record<string, unknown> | undefined {
  return top.extension ? (s.attrs[top.schema] as Record<string, unknown> | undefined) : s.attrs
}

/**
 * The object that holds a top-level attribute, for writing: the resource or its extension
 * container (created when `create`), owned by this PATCH (see {@link State.owned}). Its value of
 * `top` may still be shared with the stored attributes: callers replace it, never write into it.
 */
function holder(s: State, top: AttributeInfo, create: boolean): Record<string, unknown> | undefined {
  if (!top.extension) return s.attrs
  const c = s.attrs[top.schema]
  if (!c) {
    if (!create) return undefined
    const h: Record<string, unknown> = {}
    s.attrs[top.schema] = h
    s.owned.add(top.schema)
    return h
  }
  if (typeof c !== 'object') return c as Record<string, unknown>
  if (s.owned.has(top.schema)) return c as Record<string, unknown>
  const h = { ...(c as Record<string, unknown>) }
  s.attrs[top.schema] = h
  s.owned.add(top.schema)
  return h
}

/**
 * Leave one `primary: true` in `list` (a list this PATCH owns, whose elements may be shared with
 * the stored attributes): the `winner`, else the last one. Elements that change are replaced by
 * copies, never written (RFC 7643 §2.4: primary at most once).
 */
function primaryOnly(list: Element[], winner?: Element): void {
  let last = winner
  if (!last) for (const v of list) if (v['primary'] === true) last = v
  if (!last) return
  for (let i = 0; i < list.length; i++) {
    const v = list[i] as Element
    if (v !== last && v['primary'] === true) list[i] = { ...v, primary: false }
  }
}

function checkWritable(info: AttributeInfo, sub?: AttributeInfo): void {
  const top = info.parent ?? info
  if ((top.common && top.def.name !== 'externalId') || top.def.mutability === 'readOnly') {
    throw new MutabilityError(`Attribute '${top.path}' is read-only (RFC 7644 §3.5.2)`)
  }
  if (info.def.mutability === 'readOnly' || sub?.def.mutability === 'readOnly') {
    throw new MutabilityError(`Attribute '${(sub ?? info).path}' is read-only (RFC 7644 §3.5.2)`)
  }
}

function applyPathless(s: State, op: 'add' | 'replace' | 'remove', value: Record<string, unknown>, inCore = false): void {
  for (const key of Object.keys(value)) {
    const v = value[key]
    const lower = key.toLowerCase()
    if (lower === 'schemas') continue
    const ext = s.rt.extensions.get(lower)
    if (ext) {
      applyExtension(s, op, ext, v)
      continue
    }
    if (!inCore && lower === s.rt.coreSchema.id.toLowerCase() && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      // The core schema URN as a container (`{"urn:…:core:2.0:User": {"active": false}}`) holds
      // core attributes, as an extension URN holds the extension's (RFC 7644 §3.10 notation).
      applyPathless(s, op, v as Record<string, unknown>, true)
      continue
    }
    let resolved
    try {
      resolved = s.rt.resolveText(key)
    } catch {
      resolved = undefined // ambiguous bare name
    }
    if (!resolved || resolved.kind !== 'attribute') {
      if (s.opts.strictSchema) throw new InvalidPathError(`Unknown attribute '${key}' in the operation value`)
      s.keys.unknown.push(inCore ? `${s.rt.coreSchema.id}:${key}` : key)
      continue // RES-005: unknown attributes beside known ones are ignored
    }
    s.keys.known++
    const info = resolved.info
    const top = info.parent ?? info
    // PAT-013: read-only values equal to the stored ones (Okta's group rename sends `id`) are ignored.
    if (top.common && top.def.name !== 'externalId') {
      if (top.def.name === 'meta' && sameResourceType(s, info, v)) continue
      if (top.def.name === 'id' && v === s.id) continue
      throw new MutabilityError(`Attribute '${info.path}' is read-only (RFC 7644 §3.5.2)`)
    }
    if (top.def.mutability === 'readOnly') {
      if (deepEqual(peek(s, top)?.[top.def.name], v)) continue
    }
    applyPath(s, op, { attribute: info }, v, true)
  }
}

/**
 * A path-less `meta` (or `meta.*`) echoed from a GET is ignored when its `resourceType`,
 * if given, names this resource type; the server owns the rest of `meta`.
 */
function sameResourceType(s: State, info: AttributeInfo, v: unknown): boolean {
  if (info.parent) return info.def.name !== 'resourceType' || v === s.rt.name
  if (v === null || v === undefined) return true
  if (typeof v !== 'object' || Array.isArray(v)) return false
  for (const key of Object.keys(v)) {
    if (key.toLowerCase() === 'resourcetype' && (v as Record<string, unknown>)[key] !== s.rt.name) return false
  }
  return true
}

function applyExtension(s: State, op: 'add' | 'replace' | 'remove', ext: ExtensionInfo, value: unknown): void {
  if (op === 'remove') {
    s.keys.known++
    if (ext.required) throw new MutabilityError(`Extension '${ext.urn}' is required`)
    delete s.attrs[ext.urn]
    s.touched.add(ext.urn)
    return
  }
  if (value === null) {
    s.keys.known++
    if (op === 'replace') delete s.attrs[ext.urn]
    return
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidValueError(`The value for '${ext.urn}' must be an object`)
  for (const key of Object.keys(value as object)) {
    const info = ext.attributes.get(key.toLowerCase())
    if (!info) {
      if (s.opts.strictSchema) throw new InvalidPathError(`Unknown attribute '${ext.urn}:${key}'`)
      s.keys.unknown.push(`${ext.urn}:${key}`)
      continue
    }
    s.keys.known++
    if (info.def.mutability === 'readOnly') continue
    applyPath(s, op, { attribute: info }, (value as Record<string, unknown>)[key], true)
  }
}

function applyPath(s: State, op: 'add' | 'replace' | 'remove', path: PatchPath, value: unknown, hasValue: boolean): void {
  checkWritable(path.attribute, path.sub)
  if (path.filter) valuePathOp(s, op, path.attribute, path.filter, path.sub, value, hasValue)
  else if (path.attribute.parent) subAttributeOp(s, op, path.attribute, value)
  else topLevelOp(s, op, path.attribute, value, hasValue)
  s.touched.add((path.attribute.parent ?? path.attribute).path)
}

/** When two values of a multi-valued attribute are "the same value" (RFC 7644 §3.5.2.1; see {@link sameValueKey}). */
function sameValue(info: AttributeInfo, a: unknown, b: unknown): boolean {
  return sameValueKey(info, a) === sameValueKey(info, b)
}

function lastPrimary(list: readonly Element[]): Element | undefined {
  let winner: Element | undefined
  for (const e of list) if (e['primary'] === true) winner = e
  return winner
}

function topLevelOp(s: State, op: 'add' | 'replace' | 'remove', info: AttributeInfo, value: unknown, hasValue: boolean): void {
  const name = info.def.name
  const h = holder(s, info, op !== 'remove')
  const old = h?.[name]
  if (op === 'remove') {
    if (!h || old === undefined) return // PAT-037
    if (info.def.required) throw new MutabilityError(`Attribute '${info.path}' is required and cannot be removed (RFC 7644 §3.5.2.2)`)
    if (info.def.mutability === 'immutable') throw new MutabilityError(`Attribute '${info.path}' is immutable`)
    const given = info.def.multiValued && hasValue && value !== null ? parseValue(info, value, s.opts) : UNASSIGNED
    if (given !== UNASSIGNED) {
      // PAT-061: remove only the listed values (Entra's `Remove members` with a value array).
      // One key per value in a Set: removing k values from n is O(n + k), not O(n·k).
      const gone = new Set((given as unknown[]).map((g) => sameValueKey(info, g)))
      const kept = (old as unknown[]).filter((e) => !gone.has(sameValueKey(info, e)))
      if (kept.length > 0) h[name] = kept
      else delete h[name]
      return
    }
    delete h[name]
    return
  }
  const target = h as Record<string, unknown>
  const parsed = parseValue(info, value, s.opts)
  if (info.def.mutability === 'immutable' && old !== undefined && (parsed === UNASSIGNED || !deepEqual(old, parsed))) {
    throw new MutabilityError(`Attribute '${info.path}' is immutable and already set`)
  }
  if (parsed === UNASSIGNED && info.def.type === 'complex' && !info.def.multiValued && clearedSubAttributes(info, value).length > 0) {
    // `{"middleName": null}`: unassign those sub-attributes only, not the whole attribute.
    if (typeof old === 'object' && old !== null) {
      const merged: Element = { ...(old as Element) }
      for (const sub of clearedSubAttributes(info, value)) delete merged[sub]
      if (Object.keys(merged).length > 0) target[name] = merged
      else delete target[name]
    }
    return
  }
  if (parsed === UNASSIGNED) {
    // PAT-071: null (and "" for manager) unassigns; for add, an empty list adds nothing.
    if (op === 'replace' || !info.def.multiValued) delete target[name]
    return
  }
  if (info.def.multiValued) {
    const incoming = parsed as unknown[]
    let list: unknown[]
    if (op === 'replace' || !Array.isArray(old)) list = [...incoming]
    else {
      list = [...old]
      // PAT-023: values already present are not added again; a Set of keys keeps it linear.
      const present = new Set(list.map((x) => sameValueKey(info, x)))
      for (const e of incoming) {
        const key = sameValueKey(info, e)
        if (present.has(key)) continue
        present.add(key)
        list.push(e)
      }
    }
    if (info.def.type === 'complex') {
      const winner = lastPrimary(incoming as Element[])
      const at = winner ? list.findIndex((x) => sameValue(info, x, winner)) : -1
      let kept: Element | undefined
      if (at >= 0) list[at] = kept = { ...(list[at] as Element), primary: true }
      primaryOnly(list as Element[], kept) // PAT-015
    }
    target[name] = list
    return
  }
  if (info.def.type === 'complex') {
    // PAT-021, PAT-043: merge; sub-attributes given as null or "" are unassigned (RFC 7643 §2.5).
    const merged: Element = { ...(typeof old === 'object' && old !== null ? (old as Element) : {}), ...(parsed as Element) }
    for (const sub of clearedSubAttributes(info, value)) delete merged[sub]
    if (Object.keys(merged).length > 0) target[name] = merged
    else delete target[name]
    return
  }
  target[name] = parsed
}

/**
 * Canonical names of the writable sub-attributes a complex value sets to null or "" (RFC 7643
 * §2.5: assigning null unassigns). Accepts the value wrapped in a one-element
 * array (as some clients send `manager`).
 */
function clearedSubAttributes(info: AttributeInfo, value: unknown): string[] {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !info.children) return []
  const out: string[] = []
  for (const key of Object.keys(v)) {
    const raw = (v as Record<string, unknown>)[key]
    if (raw !== null && raw !== '') continue
    const sub = info.children.get(key.toLowerCase())
    if (sub && sub.def.mutability !== 'readOnly') out.push(sub.def.name)
  }
  return out
}

function subAttributeOp(s: State, op: 'add' | 'replace' | 'remove', sub: AttributeInfo, value: unknown): void {
  const parent = sub.parent as AttributeInfo
  const h = holder(s, parent, op !== 'remove')
  if (!h) return
  const name = sub.def.name
  const parsed = op === 'remove' ? UNASSIGNED : parseValue(sub, value, s.opts)
  const edit = (el: Element): void => {
    const old = el[name]
    if (sub.def.mutability === 'immutable' && old !== undefined && (parsed === UNASSIGNED || !deepEqual(old, parsed))) {
      throw new MutabilityError(`Attribute '${sub.path}' is immutable`)
    }
    if (parsed === UNASSIGNED) delete el[name]
    else el[name] = parsed
  }
  const current = h[parent.def.name]
  if (parent.def.multiValued) {
    const stored = Array.isArray(current) ? (current as Element[]) : []
    if (stored.length === 0) {
      if (parsed !== UNASSIGNED) h[parent.def.name] = [{ [name]: parsed }]
      return
    }
    // Every element changes: each is copied, then edited.
    const list = stored.map((el) => {
      const copy = { ...el }
      edit(copy)
      return copy
    })
    const kept = list.filter((el) => Object.keys(el).length > 0 && (name !== 'value' || op !== 'remove'))
    if (kept.length > 0) h[parent.def.name] = kept
    else delete h[parent.def.name]
    if (name === 'primary' && parsed === true) normalisePrimary(kept)
    return
  }
  const el: Element = typeof current === 'object' && current !== null ? { ...(current as Element) } : {}
  edit(el)
  if (Object.keys(el).length > 0) h[parent.def.name] = el
  else delete h[parent.def.name]
}

/** The element implied by a filter of `eq` terms joined with `and`, or undefined. */
function deriveElement(filter: FilterNode): Element | undefined {
  const terms = filter.type === 'and' ? filter.filters : [filter]
  const out: Element = {}
  for (const t of terms) {
    if (t.type !== 'compare' || t.op !== 'eq' || t.attribute.parent === undefined) return undefined
    // Server-owned sub-attributes (members[].display, $ref) are matched but never stored.
    if (t.attribute.def.mutability === 'readOnly' || t.attribute.def.name === '$ref') continue
    out[t.attribute.def.name] = t.value
  }
  return out
}

/**
 * Compiled value filters, per resolved filter node: parsed paths are cached (parsePatchRequest),
 * so the same `emails[type eq "work"]` compiles once, not once per request.
 */
const elementTests = new WeakMap<FilterNode, { attr: AttributeInfo; test: (element: unknown) => boolean }>()

function elementTest(attr: AttributeInfo, filter: FilterNode): (element: unknown) => boolean {
  const hit = elementTests.get(filter)
  if (hit && hit.attr === attr) return hit.test
  const test = compileElementFilter(attr, filter)
  elementTests.set(filter, { attr, test })
  return test
}

function valuePathOp(
  s: State,
  op: 'add' | 'replace' | 'remove',
  attr: AttributeInfo,
  filter: FilterNode,
  sub: AttributeInfo | undefined,
  value: unknown,
  hasValue: boolean,
): void {
  const name = attr.def.name
  const h = holder(s, attr, op !== 'remove')
  const current = h?.[name]
  const list: Element[] = attr.def.multiValued
    ? Array.isArray(current) ? [...(current as Element[])] : []
    : current !== undefined && current !== null ? [current as Element] : []
  const test = elementTest(attr, filter)
  const matched = list.filter(test)
  // A Set, not matched.includes(): a filter matching most of a 100,000-member group stays linear.
  const isMatch = new Set<Element>(matched)
  let result = list

  if (op === 'remove') {
    if (matched.length === 0) return // PAT-034
    if (!sub) result = list.filter((el) => !isMatch.has(el))
    else {
      if (sub.def.mutability === 'immutable') throw new MutabilityError(`Attribute '${sub.path}' is immutable`)
      const only = hasValue && value !== null && value !== undefined ? parseValue(sub, value, s.opts) : UNASSIGNED
      result = list.flatMap((el) => {
        if (!isMatch.has(el)) return [el]
        // PAT-072: with a value, remove the sub-attribute only where it currently equals that value.
        if (only !== UNASSIGNED && sameValueKey(sub, el[sub.def.name]) !== sameValueKey(sub, only)) return [el]
        const copy = { ...el }
        delete copy[sub.def.name]
        // PAT-035: an element left without `value` is removed entirely.
        return Object.keys(copy).length === 0 || (sub.def.name === 'value' && attr.children?.has('value')) ? [] : [copy]
      })
    }
  } else if (sub) {
    const parsed = parseValue(sub, value, s.opts)
    if (matched.length === 0) {
      if (parsed === UNASSIGNED) return
      if (s.opts.strict && op === 'replace') throw noTarget(attr)
      const derived = deriveElement(filter)
      if (!derived) throw noTarget(attr)
      result = [...list, { ...derived, [sub.def.name]: parsed }] // PAT-026, PAT-053
    } else {
      result = list.map((el) => {
        if (!isMatch.has(el)) return el
        if (sub.def.mutability === 'immutable' && el[sub.def.name] !== undefined && !deepEqual(el[sub.def.name], parsed)) {
          throw new MutabilityError(`Attribute '${sub.path}' is immutable`)
        }
        const copy = { ...el }
        if (parsed === UNASSIGNED) delete copy[sub.def.name]
        else copy[sub.def.name] = parsed
        return copy
      })
      if (sub.def.name === 'primary' && parsed === true) {
        const winner = result.filter((_el, i) => isMatch.has(list[i] as Element)).pop()
        primaryOnly(result, winner)
      }
    }
  } else {
    const parsed = parseElement(attr, value, s.opts)
    // `add` merges into the matched records, so sub-attributes given as null or "" unassign.
    const cleared = op === 'add' && matched.length > 0 ? clearedSubAttributes(attr, value) : []
    if (cleared.length > 0) {
      result = list
        .map((el) => {
          if (!isMatch.has(el)) return el
          const merged: Element = { ...el, ...(parsed === UNASSIGNED ? {} : (parsed as Element)) }
          for (const sub of cleared) delete merged[sub]
          return merged
        })
        .filter((el) => Object.keys(el).length > 0)
    } else if (parsed === UNASSIGNED) {
      if (op === 'replace') result = list.filter((el) => !isMatch.has(el))
    } else if (matched.length === 0) {
      if (s.opts.strict && op === 'replace') throw noTarget(attr)
      const derived = deriveElement(filter)
      if (!derived) throw noTarget(attr)
      result = [...list, { ...derived, ...(parsed as Element) }]
    } else {
      // Bullet 6 of §3.5.2.3: replace swaps whole records; add merges into them.
      result = list.map((el) => (isMatch.has(el) ? (op === 'replace' ? { ...(parsed as Element) } : { ...el, ...(parsed as Element) }) : el))
    }
    if (parsed !== UNASSIGNED && (parsed as Element)['primary'] === true) {
      primaryOnly(result, result.filter((_el, i) => isMatch.has(list[i] as Element) || i >= list.length).pop())
    }
  }
  if (!h) return
  if (attr.def.multiValued) {
    if (result.length > 0) h[name] = result
    else delete h[name]
  } else if (result[0]) h[name] = result[0]
  else delete h[name]
}

function noTarget(attr: AttributeInfo): NoTargetError {
  return new NoTargetError(`The value filter on '${attr.path}' matched no value (RFC 7644 §3.5.2.3)`)
}

