/**
 * Discovery endpoints (RFC 7644 §4, RFC 7643 §5–§7): `/ServiceProviderConfig`, `/ResourceTypes`,
 * `/Schemas`, rendered from the one schema registry. Documents are built once per base URL.
 * Paging, sorting and projection parameters are ignored; `filter` is refused with 403.
 * @module
 */
import { ForbiddenError, NotFoundError } from '../errors'
import {
  GROUP_SCHEMA,
  LIST_RESPONSE,
  RESOURCE_TYPE_SCHEMA,
  SCHEMA_SCHEMA,
  SERVICE_PROVIDER_CONFIG_SCHEMA,
} from '../schema/core-schemas'
import type { AttributeDefinition, SchemaDefinition } from '../schema/types'
import type { RenderContext } from '../schema/render'
import type { Service } from '../service'

interface Documents {
  spc: Record<string, unknown>
  resourceTypes: Record<string, unknown>[]
  schemas: Record<string, unknown>[]
}

const cache = new WeakMap<Service, Map<string, Documents>>()

function attributeDoc(def: AttributeDefinition, svc: Service, schemaId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: def.name,
    type: def.type,
    multiValued: def.multiValued,
    description: def.description,
    required: def.required,
    caseExact: def.caseExact,
    mutability: def.mutability,
    returned: def.returned,
    uniqueness: def.uniqueness,
  }
  // RES-022: Group displayName uniqueness is advertised as enforced.
  if (schemaId === GROUP_SCHEMA && def.name === 'displayName' && svc.options.groupDisplayNameUnique) out['uniqueness'] = 'server'
  if (def.canonicalValues) out['canonicalValues'] = def.canonicalValues
  if (def.referenceTypes) out['referenceTypes'] = def.referenceTypes
  if (def.type === 'complex') out['subAttributes'] = (def.subAttributes ?? []).map((s) => attributeDoc(s, svc, schemaId))
  return out
}

function schemaDoc(schema: SchemaDefinition, svc: Service, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map((a) => attributeDoc(a, svc, schema.id)),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  }
}

function build(svc: Service, baseUrl: string): Documents {
  const o = svc.options
  const spc: Record<string, unknown> = {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
  }
  if (o.documentationUri) spc['documentationUri'] = o.documentationUri
  Object.assign(spc, {
    patch: { supported: svc.patchSupported },
    bulk: o.bulk ? { supported: true, ...o.bulk } : { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: o.maxPageSize },
    changePassword: { supported: svc.adapter.capabilities?.changePassword === true },
    sort: { supported: svc.adapter.capabilities?.sort !== false },
    etag: { supported: true },
    pagination: {
      cursor: svc.cursor !== undefined,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: o.defaultPageSize,
      maxPageSize: o.maxPageSize,
      ...(svc.cursor ? { cursorTimeout: o.cursorTimeout } : {}),
    },
    authenticationSchemes: svc.authenticationSchemes,
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  })
  const resourceTypes = svc.registry.resourceTypes.map((rt) => ({
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: rt.name,
    name: rt.name,
    endpoint: rt.definition.endpoint,
    description: rt.definition.description,
    schema: rt.coreSchema.id,
    schemaExtensions: rt.definition.schemaExtensions.map((e) => ({ schema: e.schema, required: e.required })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${rt.name}` },
  }))
  const schemas = [...svc.registry.schemas.values()].map((s) => schemaDoc(s, svc, baseUrl))
  return { spc, resourceTypes, schemas }
}

function documents(svc: Service, baseUrl: string): Documents {
  let perBase = cache.get(svc)
  if (!perBase) cache.set(svc, (perBase = new Map()))
  let docs = perBase.get(baseUrl)
  if (!docs) {
    if (perBase.size > 64) perBase.clear() // bounded: base URLs derived from Host headers
    perBase.set(baseUrl, (docs = build(svc, baseUrl)))
  }
  return docs
}

function listResponse(resources: unknown[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources }
}

/** GET on a discovery endpoint: `segments[0]` names it, `segments[1]` is the optional id. Returns the body. */
export function discovery(svc: Service, segments: readonly string[], query: URLSearchParams, render: RenderContext): unknown {
  if (query.has('filter')) throw new ForbiddenError('Filtering is not supported on discovery endpoints')
  const docs = documents(svc, render.baseUrl)
  const [endpoint, id] = segments
  switch (endpoint) {
    case 'ServiceProviderConfig':
      if (id !== undefined) throw new NotFoundError('Unknown endpoint')
      return docs.spc
    case 'ResourceTypes': {
      if (id === undefined) return listResponse(docs.resourceTypes)
      const doc = docs.resourceTypes.find((d) => (d['name'] as string).toLowerCase() === id.toLowerCase())
      if (!doc) throw new NotFoundError(`Resource type '${id}' not found`)
      return doc
    }
    case 'Schemas': {
      if (id === undefined) return listResponse(docs.schemas)
      const doc = docs.schemas.find((d) => (d['id'] as string).toLowerCase() === id.toLowerCase())
      if (!doc) throw new NotFoundError(`Schema '${id}' not found`)
      return doc
    }
  }
  throw new NotFoundError('Unknown endpoint')
}
