/**
 * Small SCIM storage rules shared by the stores the library ships (`MemoryAdapter`, `recordAdapter`):
 * how a value is folded for an index key, what a member shows as `display`, the values at an
 * attribute path, and the evaluation view `compileFilter` and `compareForSort` read.
 * @module
 */
import type { StoredResource } from '../adapter'
import { foldCase } from '../schema/casefold'

/** Core schema URN of the built-in resource types, for the `schemas` attribute of evaluation views. */
export const CORE_SCHEMAS: Readonly<Record<string, string>> = {
  User: 'urn:ietf:params:scim:schemas:core:2.0:User',
  Group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
}

/**
 * A string prepared exactly as the filter evaluator compares it (RFC 7644 §3.4.2.2, §5): NFC when
 * caseExact, else {@link foldCase} (NFC and full case folding, so `STRASSE` finds `straße`). Index
 * keys built with it find what a scan would, and uniqueness agrees with lookups.
 */
export const foldKey = (value: string, caseExact: boolean): string => (caseExact ? value.normalize('NFC') : foldCase(value))

/** What a Group shows as `members[].display` for a member with these attributes: displayName, else userName. */
export function memberDisplay(attributes: Record<string, unknown>): unknown {
  return attributes['displayName'] ?? attributes['userName']
}

/** The string values at an attribute path (`emails.value` collects every email's value). */
export function valuesAt(attributes: Record<string, unknown>, path: string): string[] {
  let vs: unknown[] = [attributes]
  for (const k of path.split('.')) vs = vs.flatMap((v) => (typeof v === 'object' && v !== null ? [(v as Record<string, unknown>)[k]] : [])).flat()
  return vs.filter((v): v is string => typeof v === 'string')
}

/**
 * The plain-object view the filter evaluator and sort comparator read (see `compileFilter`): the
 * attributes plus `id`, `schemas` (the core schema URN first, then the extension containers
 * present, as `toView` renders them: FLT-036) and `meta`.
 */
export function storedView(resourceType: string, stored: StoredResource): Record<string, unknown> {
  const attributes = stored.attributes
  const schemas = [CORE_SCHEMAS[resourceType] ?? resourceType]
  for (const k of Object.keys(attributes)) if (k.startsWith('urn:')) schemas.push(k)
  return {
    ...attributes,
    id: stored.id,
    schemas,
    meta: {
      resourceType,
      created: stored.created.toISOString(),
      lastModified: stored.lastModified.toISOString(),
      version: `W/"${stored.version}"`,
    },
  }
}
