/**
 * Filter planning for the Kysely adapter: each filter becomes a SQL condition that selects a
 * **superset** of the matches through indexes (lookup keys, ids, membership, time ranges) plus a
 * flag saying whether that condition is already exact. Exact plans are paged in SQL; inexact
 * ones are narrowed in SQL and decided in memory with `compileFilter` on the candidates, so the
 * result always has the evaluator's semantics.
 * @module
 */
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely'
import type { FilterNode } from '../filter/ast'
import { parseDateTime } from '../filter/values'
import type { ResolvedResource } from './mapping'
import { encodeInstant, lookupKey } from './records'

/** A condition over the resource row aliased `r`. */
export type Condition = (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>

/**
 * The SQL part of a filter: `where` (absent: every row) and whether it is the whole filter.
 * `shape` names the SQL `where` compiles to up to its parameter values (equal shapes, equal SQL
 * text), so a statement can be compiled once per shape (see {@link PlanContext.param}).
 */
export interface Plan {
  where: Condition | undefined
  exact: boolean
  shape: string
}

/** What the planner needs to know about the store. */
export interface PlanContext {
  resource: ResolvedResource
  tenant: string
  valuesTable: string
  /** Membership tables whose member column may hold this resource's ids (derived `groups`). */
  memberOf: readonly { group: ResolvedResource }[]
  /** Planning the inner filter of a valuePath (element-level conditions). */
  inElement?: boolean
  /**
   * Every value the conditions compare with goes through this (default: itself). A caller that
   * compiles a statement once per {@link Plan.shape} returns a placeholder and records the value.
   */
  param?: (value: unknown) => unknown
}

const ANY: Plan = { where: undefined, exact: false, shape: '' }

/** One second either side: instants are compared exactly in memory, the SQL range is a superset. */
const SLACK_MS = 1000

/** The plan of a filter over one resource type (see the module TSDoc). */
export function planFilter(f: FilterNode, c: PlanContext): Plan {
  const r = c.resource
  const P = c.param ?? ((v: unknown) => v)
  switch (f.type) {
    case 'and': {
      const parts = f.filters.map((x) => planFilter(x, c))
      const conds = parts.map((p) => p.where).filter((w): w is Condition => w !== undefined)
      return { where: conds.length === 0 ? undefined : (eb) => eb.and(conds.map((w) => w(eb))), exact: parts.every((p) => p.exact), shape: `and(${parts.map((p) => p.shape).join(',')})` }
    }
    case 'or': {
      const parts = f.filters.map((x) => planFilter(x, c))
      if (parts.some((p) => p.where === undefined)) return ANY
      const conds = parts.map((p) => p.where as Condition)
      return { where: (eb) => eb.or(conds.map((w) => w(eb))), exact: parts.every((p) => p.exact), shape: `or(${parts.map((p) => p.shape).join(',')})` }
    }
    case 'not': {
      if (c.inElement) return ANY
      const inner = planFilter(f.filter, c)
      const w = inner.where
      // Exact conditions here are never NULL (key IN (subquery), id = ?), so NOT is exact too.
      return inner.exact && w ? { where: (eb) => eb.not(w(eb)), exact: true, shape: `not(${inner.shape})` } : ANY
    }
    case 'present':
      return ANY
    case 'valuePath': {
      // emails[value eq "…" and type eq "work"]: one element satisfies the whole inner filter, so
      // each of its atoms holds for the resource (a superset); `not` inside cannot be narrowed.
      // A lone comparison is exactly the resource-level one (emails[value eq x] = emails.value eq x).
      const inner = planFilter(f.filter, { ...c, inElement: true })
      return { where: inner.where, exact: inner.exact && f.filter.type === 'compare', shape: inner.shape }
    }
    case 'compare':
      break
  }
  const a = f.attribute
  if (typeof f.value !== 'string') return ANY
  const value = f.value
  // id (caseExact): the primary key.
  if (a.common && !a.parent && a.def.name === 'id') {
    if (f.op !== 'eq') return ANY
    const id = P(value.normalize('NFC'))
    return { where: (eb) => eb(`r.${r.id}`, '=', id), exact: true, shape: 'id' }
  }
  if (a.parent?.common && a.parent.def.name === 'meta' && (a.def.name === 'created' || a.def.name === 'lastModified')) {
    const column = a.def.name === 'created' ? r.created : r.lastModified
    const where = timeRange(column, f.op, value, r, P)
    return { where, exact: false, shape: where ? `time:${column}:${f.op}` : '' }
  }
  if (f.op === 'eq') {
    const lookup = r.lookups.find((l) => l.path === a.path && l.caseExact === a.def.caseExact)
    if (lookup) {
      const key = P(lookupKey(r.name, lookup.path, value, lookup.caseExact))
      return {
        where: (eb) =>
          eb(
            `r.${r.id}`,
            'in',
            eb
              .selectFrom(`${c.valuesTable} as v`)
              .select('v.resource_id')
              .where('v.tenant', '=', c.tenant)
              .where('v.resource_type', '=', r.name)
              .where('v.path', '=', lookup.path)
              .where('v.value_key', '=', key),
          ),
        exact: true,
        shape: `lookup:${lookup.path}`,
      }
    }
    if (r.members && !a.extension && a.parent?.def.name === 'members' && a.def.name === 'value') {
      const ids = spellings(value).map(P)
      return { where: memberIds(c, ids), exact: false, shape: `members:${ids.length}` }
    }
    if (!a.extension && a.parent?.def.name === 'groups' && a.def.name === 'value') {
      const ids = spellings(value).map(P)
      const w = groupIds(c, ids)
      return w ? { where: w, exact: false, shape: `groups:${ids.length}` } : ANY
    }
  }
  return ANY
}

/** Spellings of an id that a case-insensitive `members.value`/`groups.value` comparison may match. */
const spellings = (v: string): string[] => [...new Set([v, v.normalize('NFC'), v.toLowerCase(), v.toUpperCase()])]

/** Groups (rows `r`) with one of `ids` (spellings, already parameters) among their members. */
function memberIds(c: PlanContext, ids: unknown[]): Condition {
  const m = c.resource.members!
  return (eb) => {
    let q = eb.selectFrom(`${m.table} as m`).select(`m.${m.group}`).where(`m.${m.member}`, 'in', ids)
    if (m.tenant) q = q.where(`m.${m.tenant}`, '=', c.tenant)
    return eb(`r.${c.resource.id}`, 'in', q)
  }
}

/** Members (rows `r`) of one of the groups `ids` (spellings, already parameters). */
function groupIds(c: PlanContext, ids: unknown[]): Condition | undefined {
  if (c.memberOf.length === 0) return undefined
  return (eb) =>
    eb.or(
      c.memberOf.map(({ group }) => {
        const m = group.members!
        let q = eb.selectFrom(`${m.table} as m`).select(`m.${m.member}`).where(`m.${m.group}`, 'in', ids)
        if (m.tenant) q = q.where(`m.${m.tenant}`, '=', c.tenant)
        return eb(`r.${c.resource.id}`, 'in', q)
      }),
    )
}

function timeRange(column: string, op: string, value: string, r: ResolvedResource, P: (v: unknown) => unknown): Condition | undefined {
  const instant = parseDateTime(value)
  if (!instant) return undefined
  const ms = instant.seconds * 1000 + Math.floor(instant.nanos / 1_000_000)
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15 - SLACK_MS) return undefined
  // ISO text orders chronologically for years 0000-9999 only.
  if (r.timestamps === 'iso' && (ms - SLACK_MS < 0 || ms + SLACK_MS > 253402300799999)) return undefined
  const lo = P(encodeInstant(ms - SLACK_MS, r.timestamps))
  const hi = P(encodeInstant(ms + SLACK_MS, r.timestamps))
  const col = `r.${column}`
  switch (op) {
    case 'eq':
      return (eb) => eb.and([eb(col, '>=', lo), eb(col, '<=', hi)])
    case 'gt':
    case 'ge':
      return (eb) => eb(col, '>=', lo)
    case 'lt':
    case 'le':
      return (eb) => eb(col, '<=', hi)
    default:
      return undefined
  }
}
