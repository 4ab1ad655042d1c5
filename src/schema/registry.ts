/**
 * The schema registry: every schema and resource type the router serves, compiled once when
 * `scimRouter()` is called into case-insensitive lookup tables (RFC 7643 §2.1: attribute names are
 * case-insensitive) and the attribute-path resolver shared by filters, PATCH paths, `sortBy` and
 * `attributes` (RFC 7644 §3.10).
 * @module
 */
import type { AttributeDefinition, ResourceTypeDefinition, SchemaDefinition } from './types'
import { commonAttributes, schemasAttribute } from './core-schemas'

/** A resolved attribute or sub-attribute of one resource type. */
export interface AttributeInfo {
  /** The definition from the schema document. */
  readonly def: AttributeDefinition
  /** URN of the schema that defines the attribute (the core schema for common attributes). */
  readonly schema: string
  /** True when the attribute lives in an extension container keyed by {@link schema}. */
  readonly extension: boolean
  /** True for `id`, `externalId`, `meta` and `schemas` (RFC 7643 §3.1). */
  readonly common: boolean
  /**
   * Canonical path in attribute notation: `userName`, `name.givenName`, or, for extensions,
   * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
   */
  readonly path: string
  /** The parent attribute when this is a sub-attribute. */
  readonly parent?: AttributeInfo
  /** Sub-attributes keyed by lower-cased name (complex attributes only). */
  readonly children?: ReadonlyMap<string, AttributeInfo>
}

/** An extension schema attached to a resource type. */
export interface ExtensionInfo {
  readonly schema: SchemaDefinition
  readonly urn: string
  readonly required: boolean
  /** Top-level attributes keyed by lower-cased name. */
  readonly attributes: ReadonlyMap<string, AttributeInfo>
}

/** Result of resolving a textual attribute path. */
export type ResolvedPath =
  | { readonly kind: 'attribute'; readonly info: AttributeInfo }
  | { readonly kind: 'extension'; readonly extension: ExtensionInfo }

/** A resource type compiled for fast, case-insensitive lookups. */
export interface CompiledResourceType {
  readonly definition: ResourceTypeDefinition
  readonly name: string
  /** Endpoint path segment without the slash, e.g. `Users`. */
  readonly segment: string
  readonly coreSchema: SchemaDefinition
  /** Core top-level attributes keyed by lower-cased name, common attributes included. */
  readonly core: ReadonlyMap<string, AttributeInfo>
  /** Extensions keyed by lower-cased URN, in registration order. */
  readonly extensions: ReadonlyMap<string, ExtensionInfo>
  /** Top-level attributes in output order: common, then core, then (per extension) extension attributes. */
  readonly ordered: readonly AttributeInfo[]
  /**
   * Resolve `(uri, name, sub)` as the filter and PATH grammars produce it.
   * Returns undefined when no such attribute exists; throws {@link AmbiguousAttributeError} when an
   * unqualified name exists in several extensions.
   */
  resolve(uri: string | undefined, name: string, sub?: string): AttributeInfo | undefined
  /** Resolve a textual path such as `name.givenName` or `urn:…:User:manager.value` (RFC 7644 §3.10). */
  resolveText(text: string): ResolvedPath | undefined
}

/** Thrown by {@link CompiledResourceType.resolve} when a bare name matches several extensions. */
export class AmbiguousAttributeError extends Error {
  constructor(readonly attribute: string) {
    super(`attribute '${attribute}' is defined in more than one schema extension; qualify it with its schema URN`)
  }
}

const ATTRNAME = /^[A-Za-z$][A-Za-z0-9_$-]*$/

function compileAttribute(
  def: AttributeDefinition,
  schema: string,
  extension: boolean,
  common: boolean,
  parent?: AttributeInfo,
): AttributeInfo {
  const base = parent ? `${parent.path}.${def.name}` : extension ? `${schema}:${def.name}` : def.name
  const info: { -readonly [K in keyof AttributeInfo]: AttributeInfo[K] } = { def, schema, extension, common, path: base }
  if (parent) info.parent = parent
  if (def.type === 'complex' && def.subAttributes) {
    const children = new Map<string, AttributeInfo>()
    for (const sub of def.subAttributes) children.set(sub.name.toLowerCase(), compileAttribute(sub, schema, extension, common, info))
    info.children = children
  }
  return info
}

/** Compile one resource type against the schemas it names. Throws on an inconsistent definition. */
export function compileResourceType(
  definition: ResourceTypeDefinition,
  schemas: ReadonlyMap<string, SchemaDefinition>,
): CompiledResourceType {
  const coreSchema = schemas.get(definition.schema.toLowerCase())
  if (!coreSchema) throw new Error(`resource type ${definition.name}: schema ${definition.schema} is not registered`)
  const core = new Map<string, AttributeInfo>()
  const ordered: AttributeInfo[] = []
  for (const def of commonAttributes) {
    const info = compileAttribute(def, coreSchema.id, false, true)
    core.set(def.name.toLowerCase(), info)
    ordered.push(info)
  }
  core.set('schemas', compileAttribute(schemasAttribute, coreSchema.id, false, true))
  for (const def of coreSchema.attributes) {
    if (!ATTRNAME.test(def.name)) throw new Error(`schema ${coreSchema.id}: invalid attribute name '${def.name}'`)
    const key = def.name.toLowerCase()
    if (core.has(key)) throw new Error(`schema ${coreSchema.id}: attribute '${def.name}' is defined twice or redefines a common attribute`)
    const info = compileAttribute(def, coreSchema.id, false, false)
    core.set(key, info)
    ordered.push(info)
  }
  const extensions = new Map<string, ExtensionInfo>()
  for (const ext of definition.schemaExtensions) {
    const schema = schemas.get(ext.schema.toLowerCase())
    if (!schema) throw new Error(`resource type ${definition.name}: extension ${ext.schema} is not registered`)
    const attributes = new Map<string, AttributeInfo>()
    for (const def of schema.attributes) {
      if (!ATTRNAME.test(def.name)) throw new Error(`schema ${schema.id}: invalid attribute name '${def.name}'`)
      const info = compileAttribute(def, schema.id, true, false)
      attributes.set(def.name.toLowerCase(), info)
      ordered.push(info)
    }
    extensions.set(schema.id.toLowerCase(), { schema, urn: schema.id, required: ext.required, attributes })
  }

  const findTop = (uri: string | undefined, name: string): AttributeInfo | undefined => {
    const key = name.toLowerCase()
    if (uri !== undefined) {
      const lower = uri.toLowerCase()
      if (lower === coreSchema.id.toLowerCase()) return core.get(key)
      return extensions.get(lower)?.attributes.get(key)
    }
    const hit = core.get(key)
    if (hit) return hit
    // FLT-012: a bare name found in exactly one extension resolves to it.
    let found: AttributeInfo | undefined
    for (const ext of extensions.values()) {
      const candidate = ext.attributes.get(key)
      if (candidate) {
        if (found) throw new AmbiguousAttributeError(name)
        found = candidate
      }
    }
    return found
  }

  const resolve = (uri: string | undefined, name: string, sub?: string): AttributeInfo | undefined => {
    const top = findTop(uri, name)
    if (!top || sub === undefined) return top
    return top.children?.get(sub.toLowerCase())
  }

  const urns = [coreSchema.id, ...[...extensions.values()].map((e) => e.urn)].sort((x, y) => y.length - x.length)

  const resolveText = (text: string): ResolvedPath | undefined => {
    const lower = text.toLowerCase()
    let uri: string | undefined
    let rest = text
    for (const urn of urns) {
      const u = urn.toLowerCase()
      if (lower === u) {
        const ext = extensions.get(u)
        return ext ? { kind: 'extension', extension: ext } : undefined
      }
      if (lower.startsWith(u + ':')) {
        uri = urn
        rest = text.slice(urn.length + 1)
        break
      }
    }
    const dot = rest.indexOf('.')
    const name = dot < 0 ? rest : rest.slice(0, dot)
    const sub = dot < 0 ? undefined : rest.slice(dot + 1)
    if (!ATTRNAME.test(name) || (sub !== undefined && !ATTRNAME.test(sub))) return undefined
    const info = resolve(uri, name, sub)
    return info ? { kind: 'attribute', info } : undefined
  }

  return {
    definition,
    name: definition.name,
    segment: definition.endpoint.replace(/^\//, ''),
    coreSchema,
    core,
    extensions,
    ordered,
    resolve,
    resolveText,
  }
}

/** Every schema and resource type a router serves. */
export interface SchemaRegistry {
  /** Schemas keyed by lower-cased URN, in registration order. */
  readonly schemas: ReadonlyMap<string, SchemaDefinition>
  /** Resource types in registration order (User first). */
  readonly resourceTypes: readonly CompiledResourceType[]
  /** Resource type by endpoint segment (`Users`, `users`), case-insensitive. */
  bySegment(segment: string): CompiledResourceType | undefined
  /** Resource type by name (`User`), case-insensitive. */
  byName(name: string): CompiledResourceType | undefined
}

/** Build the registry; throws a descriptive Error on any inconsistency (checked once at startup). */
export function createRegistry(schemaList: readonly SchemaDefinition[], types: readonly ResourceTypeDefinition[]): SchemaRegistry {
  const schemas = new Map<string, SchemaDefinition>()
  for (const s of schemaList) {
    const key = s.id.toLowerCase()
    if (schemas.has(key)) throw new Error(`schema ${s.id} is registered twice`)
    schemas.set(key, s)
  }
  const resourceTypes = types.map((t) => compileResourceType(t, schemas))
  const segments = new Map<string, CompiledResourceType>()
  const names = new Map<string, CompiledResourceType>()
  for (const rt of resourceTypes) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(rt.segment)) throw new Error(`resource type ${rt.name}: invalid endpoint ${rt.definition.endpoint}`)
    if (segments.has(rt.segment.toLowerCase()) || names.has(rt.name.toLowerCase())) throw new Error(`resource type ${rt.name} is registered twice`)
    segments.set(rt.segment.toLowerCase(), rt)
    names.set(rt.name.toLowerCase(), rt)
  }
  return {
    schemas,
    resourceTypes,
    bySegment: (segment) => segments.get(segment.toLowerCase()),
    byName: (name) => names.get(name.toLowerCase()),
  }
}
