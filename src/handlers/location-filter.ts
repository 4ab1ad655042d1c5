/**
 * `meta.location` in filters. The location is rendered from the base URL, so storage
 * never holds it; the router rewrites comparisons on it into comparisons on `id` before the
 * filter reaches the adapter: `meta.location eq "<base>/Users/<id>"` is `id eq "<id>"`.
 * @module
 */
import { InvalidFilterError } from '../errors'
import type { FilterNode } from '../filter/ast'
import type { AttributeInfo, CompiledResourceType } from '../schema/registry'
import { locationOf, type RenderContext } from '../schema/render'

/** Rewrite every `meta.location` leaf; returns the same tree when there is none. */
export function rewriteLocation(filter: FilterNode, rt: CompiledResourceType, render: RenderContext): FilterNode {
  const id = rt.core.get('id') as AttributeInfo
  const prefix = locationOf(render, rt, '')
  const visit = (node: FilterNode): FilterNode => {
    switch (node.type) {
      case 'and':
      case 'or':
        return { type: node.type, filters: node.filters.map(visit) }
      case 'not':
        return { type: 'not', filter: visit(node.filter) }
      case 'valuePath':
        return node
      case 'present':
        return node.attribute.path === 'meta.location' ? { type: 'present', attribute: id } : node
      case 'compare': {
        if (node.attribute.path !== 'meta.location') return node
        if (node.op !== 'eq' && node.op !== 'ne') {
          throw new InvalidFilterError(`Only 'eq' and 'ne' are supported on meta.location`)
        }
        const value = String(node.value)
        let ident: string | undefined
        if (value.startsWith(prefix)) {
          try {
            ident = decodeURIComponent(value.slice(prefix.length))
          } catch {
            ident = undefined
          }
        }
        // A location outside this endpoint names no resource here: `eq` matches nothing, `ne` everything.
        const eq: FilterNode = ident !== undefined && !ident.includes('/') ? { type: 'compare', attribute: id, op: 'eq', value: ident } : { type: 'not', filter: { type: 'present', attribute: id } }
        return node.op === 'eq' ? eq : { type: 'and', filters: [{ type: 'present', attribute: id }, { type: 'not', filter: eq }] }
      }
    }
  }
  return visit(filter)
}
