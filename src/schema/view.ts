/**
 * The plain-object view of a stored resource that filters and sort comparators read
 * (`compileFilter`, `compareForSort`): attributes by canonical name plus `id`, `schemas` and `meta`.
 * @module
 */
import type { StoredResource } from '../adapter'
import type { CompiledResourceType } from './registry'
import { etagOf } from './render'

/** Build the evaluation view of a stored resource. */
export function toView(rt: CompiledResourceType, stored: StoredResource): Record<string, unknown> {
  const schemas = [rt.coreSchema.id]
  for (const ext of rt.extensions.values()) if (stored.attributes[ext.urn] !== undefined) schemas.push(ext.urn)
  return {
    ...stored.attributes,
    id: stored.id,
    schemas,
    meta: {
      resourceType: rt.name,
      created: stored.created.toISOString(),
      lastModified: stored.lastModified.toISOString(),
      version: etagOf(stored.version),
    },
  }
}
