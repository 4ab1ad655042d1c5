/**
 * In-memory evaluation of resolved filters with the exact semantics of RFC 7644 §3.4.2.2.
 * The router uses it when the adapter cannot push a filter down; adapters may use
 * it too, so that pushed-down and in-memory results agree.
 * @module
 */
import type { AttributeInfo } from '../schema/registry'
import type { CompareNode, FilterNode, ScimResourceView } from './ast'
import {
  compareCodePoints,
  compareInstants,
  isPresent,
  own,
  parseDateTime,
  prepareString,
  rawValue,
  toBoolean,
  toNumber,
  toStringValue,
  valuesOf,
} from './values'

/** A compiled predicate over one value (a resource, or one element inside a valuePath). */
type Predicate = (subject: unknown) => boolean

/**
 * Compile a resolved filter into a predicate over rendered resources.
 *
 * Semantics: string comparison honours `caseExact` (case-insensitive = NFC + Unicode lower case;
 * `userName` also case-folded, RFC 7644 §5); a multi-valued attribute matches when any value
 * matches, `ne` included; an unassigned attribute matches no comparison, `ne` included;
 * `pr` per RFC 7644 §3.4.2.2; a valuePath requires one element to satisfy the whole inner filter;
 * dateTimes compare as instants; numbers numerically; `gt`/`lt` on strings in code-point
 * order (case-folded unless caseExact).
 *
 * Compile once and reuse the predicate for every resource. Compilation recurses once per nesting
 * level, which `parseFilter` bounds; and/or chains are flat lists evaluated in loops.
 * Never throws for well-formed trees; resources with oddly typed values simply do not match.
 *
 * @example
 * const matches = compileFilter(parseFilter('active eq true', users))
 * const active = views.filter(matches)
 */
export function compileFilter(node: FilterNode): (resource: ScimResourceView) => boolean {
  const predicate = compileNode(node, undefined)
  return (resource) => predicate(resource)
}

/**
 * The filter of a valuePath on the complex `attribute` as a predicate over one of its elements:
 * exactly what `compileFilter({ type: 'valuePath', attribute, filter })` tests on each element of
 * a resource's value, without wrapping the element in a resource. Internal (PATCH value filters,
 * RFC 7644 §3.5.2).
 */
export function compileElementFilter(attribute: AttributeInfo, filter: FilterNode): (element: unknown) => boolean {
  const inner = compileNode(filter, attribute)
  return (el) => el !== null && typeof el === 'object' && !Array.isArray(el) && inner(el)
}

function compileNode(node: FilterNode, scope: AttributeInfo | undefined): Predicate {
  switch (node.type) {
    case 'and': {
      const parts = node.filters.map((f) => compileNode(f, scope))
      return (s) => {
        for (const p of parts) if (!p(s)) return false
        return true
      }
    }
    case 'or': {
      const set = eqSet(node.filters, scope)
      if (set) return set
      const parts = node.filters.map((f) => compileNode(f, scope))
      return (s) => {
        for (const p of parts) if (p(s)) return true
        return false
      }
    }
    case 'not': {
      const inner = compileNode(node.filter, scope)
      return (s) => !inner(s)
    }
    case 'valuePath': {
      const inner = compileNode(node.filter, node.attribute)
      const read = reader(node.attribute, scope)
      return (s) => {
        const value = read(s)
        const elements = Array.isArray(value) ? value : [value]
        for (const el of elements) {
          if (el !== null && typeof el === 'object' && !Array.isArray(el) && inner(el)) return true
        }
        return false
      }
    }
    case 'present': {
      const read = reader(node.attribute, scope)
      return (s) => isPresent(read(s))
    }
    case 'compare': {
      const read = reader(node.attribute, scope)
      const test = valueTest(node)
      return (s) => {
        for (const v of valuesOf(read(s))) if (test(v)) return true
        return false
      }
    }
  }
}

/**
 * `a eq "x" or a eq "y" or …` on one string attribute: one read and one fold per value, then a set
 * lookup, so time per term stays flat however long the chain (issue 3).
 */
function eqSet(filters: readonly FilterNode[], scope: AttributeInfo | undefined): Predicate | undefined {
  const first = filters[0]
  if (filters.length < 4 || first?.type !== 'compare') return undefined
  const attribute = first.attribute
  const type = attribute.def.type
  if (type !== 'string' && type !== 'reference' && type !== 'binary') return undefined
  const operands = new Set<string>()
  for (const f of filters) {
    if (f.type !== 'compare' || f.op !== 'eq' || f.attribute !== attribute || typeof f.value !== 'string') return undefined
    operands.add(prepareString(f.value, attribute))
  }
  const read = reader(attribute, scope)
  return (subject) => {
    for (const v of valuesOf(read(subject))) {
      const raw = toStringValue(v)
      if (raw !== undefined && operands.has(prepareString(raw, attribute))) return true
    }
    return false
  }
}

/**
 * How to read an attribute: from an element of the enclosing valuePath when the attribute is one of
 * its sub-attributes, otherwise from the resource.
 */
function reader(attribute: AttributeInfo, scope: AttributeInfo | undefined): (subject: unknown) => unknown {
  if (scope && attribute.parent === scope) {
    const name = attribute.def.name
    return (element) => own(element, name)
  }
  return (resource) => rawValue(resource, attribute)
}

/** A test of one assigned value against the node's operator and operand. */
function valueTest(node: CompareNode): (value: unknown) => boolean {
  const { attribute, op } = node
  switch (attribute.def.type) {
    case 'boolean': {
      const operand = node.value === true
      return (v) => {
        const b = toBoolean(v)
        return b !== undefined && (op === 'eq' ? b === operand : b !== operand)
      }
    }
    case 'integer':
    case 'decimal': {
      const operand = Number(node.value)
      return (v) => {
        const n = toNumber(v)
        return n !== undefined && ordered(op, n === operand ? 0 : n < operand ? -1 : 1)
      }
    }
    case 'dateTime': {
      const operand = parseDateTime(node.value)
      if (!operand) return () => false
      return (v) => {
        const t = parseDateTime(v)
        return t !== undefined && ordered(op, compareInstants(t, operand))
      }
    }
    default: {
      const operand = prepareString(String(node.value), attribute)
      return (v) => {
        const raw = toStringValue(v)
        if (raw === undefined) return false
        const s = prepareString(raw, attribute)
        switch (op) {
          case 'co':
            return s.includes(operand)
          case 'sw':
            return s.startsWith(operand)
          case 'ew':
            return s.endsWith(operand)
          case 'eq':
            return s === operand
          case 'ne':
            return s !== operand
          default:
            return ordered(op, compareCodePoints(s, operand))
        }
      }
    }
  }
}

/** Apply an ordering operator to a comparison result (`eq`/`ne` included). */
function ordered(op: CompareNode['op'], cmp: number): boolean {
  switch (op) {
    case 'eq':
      return cmp === 0
    case 'ne':
      return cmp !== 0
    case 'gt':
      return cmp > 0
    case 'ge':
      return cmp >= 0
    case 'lt':
      return cmp < 0
    case 'le':
      return cmp <= 0
    default:
      return false
  }
}
