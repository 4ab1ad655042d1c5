/**
 * JSON Schema for a resource type's stored attributes, generated from the schema registry and
 * compiled once with Ajv when the router is built (CONVENTIONS §6.4). Every resource a write
 * produces — POST body, PUT result — passes it before it reaches the adapter, as a second,
 * independent check of types, multi-valued shapes and required attributes (issue 4); a PATCH
 * result passes the checks of the attributes its operations wrote.
 * @module
 */
import Ajv, { type ValidateFunction } from 'ajv'
import { InvalidValueError } from '../errors'
import type { AttributeDefinition } from '../schema/types'
import type { CompiledResourceType } from '../schema/registry'

type JsonSchema = Record<string, unknown>

const DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$'
const BASE64 = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$'

function valueSchema(def: AttributeDefinition): JsonSchema {
  switch (def.type) {
    case 'boolean':
      return { type: 'boolean' }
    case 'integer':
      return { type: 'integer' }
    case 'decimal':
      return { type: 'number' }
    case 'dateTime':
      return { type: 'string', pattern: DATE_TIME }
    case 'binary':
      return { type: 'string', pattern: BASE64 }
    case 'complex': {
      const properties: Record<string, JsonSchema> = {}
      for (const sub of def.subAttributes ?? []) properties[sub.name] = attributeSchema(sub)
      return { type: 'object', properties }
    }
    default:
      return { type: 'string' }
  }
}

function attributeSchema(def: AttributeDefinition): JsonSchema {
  const one = valueSchema(def)
  return def.multiValued ? { type: 'array', items: one } : one
}

/** The schema of one attribute's value where it is stored (a required string is non-empty). */
function propertySchema(def: AttributeDefinition): JsonSchema {
  return def.required && (def.type === 'string' || def.type === 'reference') ? { type: 'string', minLength: 1 } : attributeSchema(def)
}

function objectSchema(defs: readonly AttributeDefinition[], extra: Record<string, JsonSchema> = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = { ...extra }
  const required: string[] = []
  for (const def of defs) {
    properties[def.name] = propertySchema(def)
    if (def.required) required.push(def.name)
  }
  return required.length > 0 ? { type: 'object', properties, required } : { type: 'object', properties }
}

/** The JSON Schema of a resource type's stored attributes (core, `externalId`, extension containers). */
export function resourceJsonSchema(rt: CompiledResourceType): JsonSchema {
  const extensions: Record<string, JsonSchema> = {}
  const requiredExtensions: string[] = []
  for (const ext of rt.extensions.values()) {
    extensions[ext.urn] = objectSchema(ext.schema.attributes)
    if (ext.required) requiredExtensions.push(ext.urn)
  }
  const schema = objectSchema(rt.coreSchema.attributes, { externalId: { type: 'string' }, ...extensions })
  if (requiredExtensions.length > 0) schema['required'] = [...((schema['required'] as string[] | undefined) ?? []), ...requiredExtensions]
  return schema
}

const ajv = new Ajv({ allErrors: false, strict: false, validateSchema: false })

/**
 * A compiled check of one resource type's attributes. With `touched` (the canonical paths of the
 * top-level attributes a PATCH wrote, and extension URNs), only those are checked: the others are
 * the stored values, unchanged, and a PATCH of `active` costs one boolean check, not the resource.
 */
export type ResourceValidator = (attributes: Record<string, unknown>, touched?: ReadonlySet<string>) => void

/** Where one attribute's value is in the stored attributes, and the check of that value alone. */
interface PartCheck {
  /** The extension container the value is in, or undefined for a core attribute. */
  container: string | undefined
  name: string
  /** `where` is the attribute notation the error names. */
  where: string
  validate: ValidateFunction
}

function fail(validate: ValidateFunction, prefix: string): never {
  const e = validate.errors?.[0]
  const inner = (e?.instancePath ?? '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/^\//, '').replace(/\//g, '.')
  const where = prefix && inner ? (inner.startsWith('[') ? `${prefix}${inner}` : `${prefix}.${inner}`) : prefix || inner
  const missing = e?.keyword === 'required' ? String((e.params as { missingProperty?: unknown }).missingProperty) : undefined
  throw new InvalidValueError(missing !== undefined ? `Required attribute '${missing}' is missing` : `Attribute '${where}' ${e?.message ?? 'is invalid'}`)
}

/**
 * Compile the validator of a resource type (once, when the router is built).
 * The returned function throws InvalidValueError naming the attribute.
 */
export function compileResourceValidator(rt: CompiledResourceType): ResourceValidator {
  const validate: ValidateFunction = ajv.compile(resourceJsonSchema(rt))
  // Per-attribute checks for PATCH, keyed by the canonical path `applyPatch` reports as touched.
  const parts = new Map<string, PartCheck>()
  const part = (path: string, container: string | undefined, name: string, schema: JsonSchema): void => {
    parts.set(path, { container, name, where: path, validate: ajv.compile(schema) })
  }
  part('externalId', undefined, 'externalId', { type: 'string' })
  for (const def of rt.coreSchema.attributes) part(def.name, undefined, def.name, propertySchema(def))
  for (const ext of rt.extensions.values()) {
    parts.set(ext.urn, { container: undefined, name: ext.urn, where: ext.urn, validate: ajv.compile(objectSchema(ext.schema.attributes)) })
    for (const def of ext.schema.attributes) part(`${ext.urn}:${def.name}`, ext.urn, def.name, propertySchema(def))
  }
  const whole = (attributes: Record<string, unknown>): void => {
    if (!validate(attributes)) fail(validate, '')
  }
  return (attributes, touched) => {
    if (touched === undefined) return whole(attributes)
    const checks: PartCheck[] = []
    for (const path of touched) {
      const check = parts.get(path)
      if (!check) return whole(attributes) // a path this map does not know: check everything
      checks.push(check)
    }
    for (const c of checks) {
      const holder = c.container === undefined ? attributes : (attributes[c.container] as Record<string, unknown> | undefined)
      if (holder === undefined) continue // an extension removed whole: nothing left to check
      if (typeof holder !== 'object' || holder === null || Array.isArray(holder)) return whole(attributes)
      const value = holder[c.name]
      if (value !== undefined && !c.validate(value)) fail(c.validate, c.where)
    }
    // A required extension removed by the PATCH (the whole check names it).
    for (const ext of rt.extensions.values()) if (ext.required && attributes[ext.urn] === undefined) return whole(attributes)
  }
}
