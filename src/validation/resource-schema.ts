/**
 * JSON Schema for a resource type's stored attributes, generated from the schema registry and
 * compiled once with Ajv when the router is built (CONVENTIONS §6.4). Every resource a write
 * produces — POST body, PUT result, PATCH result — passes it before it reaches the adapter, as a
 * second, independent check of types, multi-valued shapes and required attributes (issue 4).
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

function objectSchema(defs: readonly AttributeDefinition[], extra: Record<string, JsonSchema> = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = { ...extra }
  const required: string[] = []
  for (const def of defs) {
    properties[def.name] = attributeSchema(def)
    if (def.required) {
      required.push(def.name)
      if (def.type === 'string' || def.type === 'reference') properties[def.name] = { type: 'string', minLength: 1 }
    }
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

/** A compiled check of one resource type's attributes. */
export type ResourceValidator = (attributes: Record<string, unknown>) => void

/**
 * Compile the validator of a resource type (once, when the router is built).
 * The returned function throws InvalidValueError naming the attribute.
 */
export function compileResourceValidator(rt: CompiledResourceType): ResourceValidator {
  const validate: ValidateFunction = ajv.compile(resourceJsonSchema(rt))
  return (attributes) => {
    if (validate(attributes)) return
    const e = validate.errors?.[0]
    const where = (e?.instancePath ?? '').replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.')
    const missing = e?.keyword === 'required' ? String((e.params as { missingProperty?: unknown }).missingProperty) : undefined
    throw new InvalidValueError(
      missing !== undefined ? `Required attribute '${missing}' is missing` : `Attribute '${where}' ${e?.message ?? 'is invalid'}`,
    )
  }
}
