/**
 * Recognise PATCH requests that only add or remove Group members — every IdP's group push:
 * `add members [...]`, `remove members[value eq "id"]`, Entra's `Remove members` with a value array
 * — so the router can hand them to the adapter's `modifyMembers` instead of rewriting the group.
 * The result equals applying the operations in order: for each id the last operation wins, so adds
 * and removes are disjoint.
 * @module
 */
import type { CompiledResourceType } from '../schema/registry'
import { UNASSIGNED, parseValue, type ValueOptions } from '../schema/values'
import type { PatchOperation } from './operations'

/** Net membership change of a PATCH request. */
export interface MemberPlan {
  add: string[]
  remove: string[]
}

function ids(value: unknown, rt: CompiledResourceType, opts: ValueOptions): string[] | undefined {
  const members = rt.core.get('members')
  if (!members) return undefined
  let parsed: unknown
  try {
    parsed = parseValue(members, value, opts)
  } catch {
    return undefined // the generic path reports the error
  }
  if (parsed === UNASSIGNED || !Array.isArray(parsed)) return undefined
  const out: string[] = []
  for (const el of parsed as Record<string, unknown>[]) {
    if (typeof el['value'] !== 'string') return undefined
    out.push(el['value'])
  }
  return out
}

/** The plan, or undefined when any operation does more than add or remove members. */
export function memberPlan(rt: CompiledResourceType, operations: readonly PatchOperation[], opts: ValueOptions): MemberPlan | undefined {
  if (rt.name !== 'Group') return undefined
  const last = new Map<string, 'add' | 'remove'>()
  for (const op of operations) {
    const path = op.path
    if (!path || path.attribute.path !== 'members' || path.attribute.parent || path.sub) return undefined
    if (path.filter) {
      const f = path.filter
      if (op.op !== 'remove' || f.type !== 'compare' || f.op !== 'eq' || f.attribute.def.name !== 'value' || typeof f.value !== 'string') return undefined
      // members.value is caseExact false, so the filter matches an id in any case, while
      // modifyMembers compares ids exactly. Ids are UUIDs in lower case (both shipped adapters), so
      // a lower-case value means the same thing either way; anything else takes the generic path.
      if (f.value !== f.value.toLowerCase()) return undefined
      last.set(f.value, 'remove')
      continue
    }
    if (op.op === 'replace') return undefined
    if (op.op === 'remove' && (!op.hasValue || op.value === null || (Array.isArray(op.value) && op.value.length === 0))) return undefined
    const list = ids(op.value, rt, opts)
    if (!list) return undefined
    for (const id of list) last.set(id, op.op)
  }
  const plan: MemberPlan = { add: [], remove: [] }
  for (const [id, what] of last) plan[what].push(id)
  return plan
}
