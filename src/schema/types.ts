/**
 * Schema model of RFC 7643 §7: attribute definitions, schema documents and resource types.
 * @module
 */

/** Attribute data types, RFC 7643 §2.3 (with `binary`, erratum 5606). */
export type AttributeType =
  | 'string'
  | 'boolean'
  | 'decimal'
  | 'integer'
  | 'dateTime'
  | 'reference'
  | 'complex'
  | 'binary'

/** RFC 7643 §7 `mutability`. */
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly'
/** RFC 7643 §7 `returned`. */
export type Returned = 'always' | 'never' | 'default' | 'request'
/** RFC 7643 §7 `uniqueness`. */
export type Uniqueness = 'none' | 'server' | 'global'

/**
 * One attribute definition as published by `/Schemas` (RFC 7643 §7). Every characteristic is
 * explicit; {@link defineAttribute} fills the RFC 7643 §2.2 defaults.
 */
export interface AttributeDefinition {
  name: string
  type: AttributeType
  multiValued: boolean
  description: string
  required: boolean
  caseExact: boolean
  mutability: Mutability
  returned: Returned
  uniqueness: Uniqueness
  canonicalValues?: string[]
  referenceTypes?: string[]
  subAttributes?: AttributeDefinition[]
}

/** A schema document, RFC 7643 §7 (`urn:ietf:params:scim:schemas:core:2.0:Schema`). */
export interface SchemaDefinition {
  /** The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`. */
  id: string
  name: string
  description: string
  attributes: AttributeDefinition[]
}

/** A resource type, RFC 7643 §6. */
export interface ResourceTypeDefinition {
  /** Resource type name, e.g. `User`; the value of `meta.resourceType`. */
  name: string
  /** Endpoint relative to the base URL, with a leading slash, e.g. `/Users`, as in the RFC 7643 §8.6 examples. */
  endpoint: string
  description: string
  /** URN of the core schema. */
  schema: string
  /** Extension schemas and whether a resource must carry them. */
  schemaExtensions: Array<{ schema: string; required: boolean }>
}

/** Input shape of an attribute definition: only `name` is required, the rest take RFC 7643 §2.2 defaults. */
export type AttributeInput = Partial<Omit<AttributeDefinition, 'subAttributes'>> & {
  name: string
  subAttributes?: AttributeInput[]
}

/**
 * Build an {@link AttributeDefinition} with the defaults of RFC 7643 §2.2: type string, single-valued,
 * not required, not caseExact, readWrite, returned default, uniqueness none.
 */
export function defineAttribute(input: AttributeInput): AttributeDefinition {
  const def: AttributeDefinition = {
    name: input.name,
    type: input.type ?? 'string',
    multiValued: input.multiValued ?? false,
    description: input.description ?? '',
    required: input.required ?? false,
    caseExact: input.caseExact ?? false,
    mutability: input.mutability ?? 'readWrite',
    returned: input.returned ?? 'default',
    uniqueness: input.uniqueness ?? 'none',
  }
  if (input.canonicalValues && input.canonicalValues.length > 0) def.canonicalValues = [...input.canonicalValues]
  if (input.referenceTypes && input.referenceTypes.length > 0) def.referenceTypes = [...input.referenceTypes]
  if (def.type === 'complex') def.subAttributes = (input.subAttributes ?? []).map(defineAttribute)
  return def
}
