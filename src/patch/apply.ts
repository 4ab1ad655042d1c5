/**
 * `applyPatch()`: the RFC 7644 §3.5.2 PATCH engine. Pure: it takes the stored attributes and the
 * normalised operations and returns the new attributes, or throws, so a failing operation never
 * leaves a half-applied change (PAT-011). Operations apply in order (PAT-010).
 *
 * Deliberate interoperability (README "IdP compatibility"), off where `strict` says so:
 * - `replace`/`add` on `attr[filter].sub` that selects nothing creates the element from the
 *   filter's `eq` terms (Entra, PAT-026/053);
 * - `remove` on a multi-valued attribute with a `value` removes only the listed values (Entra's
 *   `Remove members`, PAT-061);
 * - path-less values may use attribute paths as keys (`name.givenName`, `urn:…:User:department`,
 *   PAT-051), and read-only values equal to the stored ones (Okta's `id`) are ignored (PAT-013).
 * @module
 */
import { InvalidPathError, InvalidValueError, MutabilityError, NoTargetError, isScimError } from '../errors'
import type { FilterNode, PatchPath } from '../filter/ast'
import { compileFilter } from '../filter/evaluate'
import type { AttributeInfo, CompiledResourceType, ExtensionInfo } from '../schema/registry'
import { assertRequired, type Attributes } from '../schema/resource'
import { foldCase } from '../schema/casefold'
import { UNASSIGNED, deepEqual, normalisePrimary, parseElement, parseValue, type ValueOptions } from '../schema/values'
import type { PatchOperation } from './operations'

/** Options of {@link applyPatch}. */
export interface PatchOptions extends ValueOptions {
  /** Ignore unknown attributes in path-less values (default) or reject them. */
  strictSchema: boolean
}

/** Result of {@link applyPatch}. */
export interface PatchResult {
  attributes: Attributes
  /** False when the operations left the resource as it was (PAT-016, PAT-034). */
  changed: boolean
  /** Canonical paths the operations wrote, for `returned: "request"` attributes (PAT-092). */
  touched: Set<string>
}

type Element = Record<string, unknown>

interface State {
  rt: CompiledResourceType
  attrs: Attributes
  id: string
  opts: PatchOptions
  touched: Set<string>
}

/**
 * Apply PATCH operations to a copy of `current` (writable attributes, canonical names).
 * @throws MutabilityError, NoTargetError, InvalidPathError, InvalidValueError (see RFC 7644 §3.5.2).
 */
export function applyPatch(
  rt: CompiledResourceType,
  id: string,
  current: Attributes,
  operations: readonly PatchOperation[],
  opts: PatchOptions,
): PatchResult {
  const s: State = { rt, attrs: structuredClone(current), id, opts, touched: new Set() }
  operations.forEach((op, i) => {
    try {
      if (op.extension) applyExtension(s, op.op, op.extension, op.value)
      else if (op.path) applyPath(s, op.op, op.path, op.value, op.hasValue)
      else applyPathless(s, op.op, op.value as Record<string, unknown>)
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

/** The object that holds a top-level attribute: the resource, or its extension container. */
function holder(s: State, top: AttributeInfo, create: boolean): Record<string, unknown> | undefined {
  if (!top.extension) return s.attrs
  let c = s.attrs[top.schema] as Record<string, unknown> | undefined
  if (!c && create) s.attrs[top.schema] = c = {}
  return c
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

function applyPathless(s: State, op: 'add' | 'replace' | 'remove', value: Record<string, unknown>): void {
  for (const key of Object.keys(value)) {
    const v = value[key]
    const lower = key.toLowerCase()
    if (lower === 'schemas') continue
    const ext = s.rt.extensions.get(lower)
    if (ext) {
      applyExtension(s, op, ext, v)
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
      continue // RES-005: unknown attributes are ignored
    }
    const info = resolved.info
    const top = info.parent ?? info
    // PAT-013: read-only values equal to the stored ones (Okta's group rename sends `id`) are ignored.
    if (top.common && top.def.name !== 'externalId') {
      if (top.def.name === 'meta' && sameResourceType(s, info, v)) continue
      if (top.def.name === 'id' && v === s.id) continue
      throw new MutabilityError(`Attribute '${info.path}' is read-only (RFC 7644 §3.5.2)`)
    }
    if (top.def.mutability === 'readOnly') {
      const h = holder(s, top, false)
      if (deepEqual(h?.[top.def.name], v)) continue
    }
    applyPath(s, op, { attribute: info }, v, true)
  }
}

/**
 * PAT-013: a path-less `meta` (or `meta.*`) echoed from a GET is ignored when its `resourceType`,
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
    if (ext.required) throw new MutabilityError(`Extension '${ext.urn}' is required`)
    delete s.attrs[ext.urn]
    s.touched.add(ext.urn)
    return
  }
  if (value === null) {
    if (op === 'replace') delete s.attrs[ext.urn]
    return
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidValueError(`The value for '${ext.urn}' must be an object`)
  for (const key of Object.keys(value as object)) {
    const info = ext.attributes.get(key.toLowerCase())
    if (!info) {
      if (s.opts.strictSchema) throw new InvalidPathError(`Unknown attribute '${ext.urn}:${key}'`)
      continue
    }
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

/** PAT-023: when two values of a multi-valued attribute are "the same value". */
function sameValue(info: AttributeInfo, a: unknown, b: unknown): boolean {
  if (info.def.type !== 'complex') return equalScalar(info, a, b)
  const x = a as Element
  const y = b as Element
  const valueInfo = info.children?.get('value')
  if (info.def.name === 'members' || info.def.name === 'groups') return x['value'] === y['value']
  if (!valueInfo) return deepEqual(a, b)
  const typeInfo = info.children?.get('type')
  return equalScalar(valueInfo, x['value'], y['value']) && (!typeInfo || equalScalar(typeInfo, x['type'], y['type']))
}

function equalScalar(info: AttributeInfo, a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && !info.def.caseExact && info.def.type === 'string') return foldCase(a) === foldCase(b)
  return a === b
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
      const kept = (old as unknown[]).filter((e) => !(given as unknown[]).some((g) => sameValue(info, e, g)))
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
      for (const e of incoming) if (!list.some((x) => sameValue(info, x, e))) list.push(e) // PAT-023
    }
    if (info.def.type === 'complex') {
      const winner = lastPrimary(incoming as Element[])
      const kept = winner && list.find((x) => sameValue(info, x, winner))
      if (kept) (kept as Element)['primary'] = true
      normalisePrimary(list as Element[], kept as Element | undefined) // PAT-015
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
 * §2.5: assigning null unassigns). Accepts the EXT-007 one-element array.
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
    const list = Array.isArray(current) ? (current as Element[]) : []
    if (list.length === 0) {
      if (parsed !== UNASSIGNED) h[parent.def.name] = [{ [name]: parsed }]
      return
    }
    list.forEach(edit)
    const kept = list.filter((el) => Object.keys(el).length > 0 && (name !== 'value' || op !== 'remove'))
    if (kept.length > 0) h[parent.def.name] = kept
    else delete h[parent.def.name]
    if (name === 'primary' && parsed === true) normalisePrimary(kept)
    return
  }
  const el: Element = typeof current === 'object' && current !== null ? (current as Element) : {}
  edit(el)
  if (Object.keys(el).length > 0) h[parent.def.name] = el
  else delete h[parent.def.name]
}

/** The element implied by a filter of `eq` terms joined with `and` (PAT-026), or undefined. */
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
  const test = compileFilter({ type: 'valuePath', attribute: attr, filter })
  const wrap = (el: Element): Record<string, unknown> => {
    const inner = { [name]: attr.def.multiValued ? [el] : el }
    return attr.extension ? { [attr.schema]: inner } : inner
  }
  const matched = list.filter((el) => test(wrap(el)))
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
        if (only !== UNASSIGNED && !equalScalar(sub, el[sub.def.name], only)) return [el]
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
        normalisePrimary(result, winner)
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
      normalisePrimary(result, result.filter((_el, i) => isMatch.has(list[i] as Element) || i >= list.length).pop())
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

