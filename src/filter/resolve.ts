/**
 * Resolution of a parsed filter against one resource type (FLT-010..014, FLT-020..035): names
 * become {@link AttributeInfo}s, values are typed and normalised, unsupported combinations are
 * rejected with {@link InvalidFilterError}. Internal module; use `parseFilter`/`parsePath`.
 * @module
 */
import { InvalidFilterError } from '../errors'
import { AmbiguousAttributeError, type AttributeInfo, type CompiledResourceType } from '../schema/registry'
import type {
  CompareOperator,
  CompareValue,
  FilterNode,
  ParsedAttrPath,
  ParsedCompare,
  ParsedFilter,
} from './ast'
import { parseDateTime } from './values'

const ORDER_OPS: ReadonlySet<CompareOperator> = new Set(['gt', 'ge', 'lt', 'le'])
const SUBSTRING_OPS: ReadonlySet<CompareOperator> = new Set(['co', 'sw', 'ew'])

/**
 * Resolve a top-level attribute path, or throw via `fail` naming it (FLT-013). An ambiguous bare
 * name (FLT-012) also fails.
 */
export function resolveTopPath(
  rt: CompiledResourceType,
  path: ParsedAttrPath,
  fail: (detail: string, cause?: unknown) => Error,
): AttributeInfo {
  let resolved
  try {
    resolved = rt.resolveText(path.text)
  } catch (err) {
    if (err instanceof AmbiguousAttributeError) throw fail(err.message, err)
    throw err
  }
  if (!resolved) throw fail(`The attribute '${path.text}' is not defined for resource type ${rt.name}`)
  if (resolved.kind !== 'attribute') throw fail(`'${path.text}' names a schema, not an attribute`)
  return resolved.info
}

/** Resolve a path relative to a complex attribute (inside `[...]` or after `]`). */
export function resolveChildPath(
  parent: AttributeInfo,
  path: ParsedAttrPath,
  fail: (detail: string) => Error,
): AttributeInfo {
  const child = path.uri === undefined && path.sub === undefined ? parent.children?.get(path.name.toLowerCase()) : undefined
  if (!child) throw fail(`The attribute '${parent.path}' has no sub-attribute '${path.text}'`)
  return child
}

const filterFail = (detail: string, cause?: unknown): Error =>
  new InvalidFilterError(detail, cause === undefined ? undefined : { cause })

/**
 * Resolve a parsed filter. `scope` is the complex attribute of an enclosing valuePath; leaves are
 * then resolved among its sub-attributes. Recursion depth is bounded by the nesting limit checked
 * before parsing (and/or chains are flat lists).
 */
export function resolveFilter(node: ParsedFilter, rt: CompiledResourceType, scope?: AttributeInfo): FilterNode {
  switch (node.type) {
    case 'and':
    case 'or':
      return { type: node.type, filters: node.filters.map((f) => resolveFilter(f, rt, scope)) }
    case 'not':
      return { type: 'not', filter: resolveFilter(node.filter, rt, scope) }
    case 'valuePath': {
      const attribute = resolveTopPath(rt, node.path, filterFail)
      checkFilterable(attribute)
      if (attribute.def.type !== 'complex' || !attribute.children) {
        throw new InvalidFilterError(`'${node.path.text}' is not a complex attribute; a value filter [...] needs one`)
      }
      return { type: 'valuePath', attribute, filter: resolveFilter(node.filter, rt, attribute) }
    }
    case 'present': {
      const attribute = leafAttribute(node.path, rt, scope)
      return { type: 'present', attribute }
    }
    case 'compare':
      return resolveCompare(node, rt, scope)
  }
}

function leafAttribute(path: ParsedAttrPath, rt: CompiledResourceType, scope: AttributeInfo | undefined): AttributeInfo {
  const attribute = scope ? resolveChildPath(scope, path, filterFail) : resolveTopPath(rt, path, filterFail)
  checkFilterable(attribute)
  return attribute
}

/** FLT-035: attributes never returned are never filterable. */
function checkFilterable(attribute: AttributeInfo): void {
  if (attribute.def.returned === 'never' || attribute.parent?.def.returned === 'never') {
    throw new InvalidFilterError(`The attribute '${attribute.path}' cannot be used in a filter`)
  }
}

function resolveCompare(node: ParsedCompare, rt: CompiledResourceType, scope: AttributeInfo | undefined): FilterNode {
  let attribute = leafAttribute(node.path, rt, scope)
  const { op } = node
  if (attribute.def.type === 'complex') {
    // FLT-030: a complex attribute without sub-attribute means its `value` sub-attribute.
    const value = attribute.children?.get('value')
    if (!value) {
      throw new InvalidFilterError(
        `The complex attribute '${node.path.text}' needs a sub-attribute for '${op}' (e.g. ${attribute.path}.subAttribute)`,
      )
    }
    attribute = value
    checkFilterable(attribute)
  }
  if (node.valueKind === 'null') {
    // FLT-029
    if (op === 'eq') return { type: 'not', filter: { type: 'present', attribute } }
    if (op === 'ne') return { type: 'present', attribute }
    throw new InvalidFilterError(`The operator '${op}' cannot be used with null (only eq and ne)`)
  }
  return { type: 'compare', attribute, op, value: typedValue(node, attribute) }
}

function typeError(node: ParsedCompare, attribute: AttributeInfo, what: string): InvalidFilterError {
  return new InvalidFilterError(
    `${what} for the ${attribute.def.type} attribute '${attribute.path}' (in '${node.path.text} ${node.op} ...')`,
  )
}

/** FLT-022..025: check the operator for the attribute type and type the value. */
function typedValue(node: ParsedCompare, attribute: AttributeInfo): CompareValue {
  const { op, value, valueKind } = node
  const type = attribute.def.type
  switch (type) {
    case 'boolean': {
      if (op !== 'eq' && op !== 'ne') throw typeError(node, attribute, `The operator '${op}' is not supported`)
      if (typeof value === 'boolean') return value
      if (typeof value === 'string') {
        const lower = value.toLowerCase()
        if (lower === 'true') return true
        if (lower === 'false') return false
      }
      throw typeError(node, attribute, 'A boolean value (true or false) is required')
    }
    case 'integer':
    case 'decimal': {
      if (SUBSTRING_OPS.has(op)) throw typeError(node, attribute, `The operator '${op}' is not supported`)
      if (typeof value === 'number') return value
      // FLT-024 COMPAT: a string of digits is coerced.
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value)
      throw typeError(node, attribute, 'A numeric value is required')
    }
    case 'dateTime': {
      if (SUBSTRING_OPS.has(op)) throw typeError(node, attribute, `The operator '${op}' is not supported`)
      if (typeof value === 'string' && parseDateTime(value)) return value
      throw typeError(node, attribute, `'${String(value)}' is not a valid dateTime`)
    }
    case 'binary': {
      if (ORDER_OPS.has(op)) throw typeError(node, attribute, `The operator '${op}' is not supported`)
      if (typeof value === 'string') return value
      throw typeError(node, attribute, 'A string value is required')
    }
    case 'string':
    case 'reference': {
      if (typeof value === 'string') return value
      throw typeError(node, attribute, valueKind === 'number' ? 'A string value is required, not a number' : 'A string value is required')
    }
    case 'complex':
      throw typeError(node, attribute, `The operator '${op}' is not supported`)
  }
}
