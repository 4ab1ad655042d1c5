/**
 * Filters (RFC 7644 §3.4.2.2), PATCH paths (§3.5.2) and sorting (§3.4.2.3): parse, resolve
 * against the schema registry, evaluate in memory, compare for sorting.
 * @module
 */
export {
  parseFilter,
  parseFilterSyntax,
  parsePath,
  parsePathSyntax,
  DEFAULT_FILTER_LIMITS,
  type FilterLimits,
} from './parse'
export { compileFilter } from './evaluate'
export { compareForSort, compareDefault, type SortOrder, type ResourceComparator } from './compare'
export type {
  CompareOperator,
  CompareValue,
  CompareNode,
  PresentNode,
  AndNode,
  OrNode,
  NotNode,
  ValuePathNode,
  FilterNode,
  PatchPath,
  ParsedAttrPath,
  ValueKind,
  ParsedCompare,
  ParsedPresent,
  ParsedAnd,
  ParsedOr,
  ParsedNot,
  ParsedValuePath,
  ParsedFilter,
  ParsedPath,
  ScimResourceView,
} from './ast'
