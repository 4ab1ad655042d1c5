/**
 * What `scimRouter()` compiles once and every handler shares: the adapter, the resolved options,
 * the schema registry and per-type tables. Per-request state lives in {@link Call}.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { ScimAdapter, StoredResource, UniqueConstraint } from './adapter'
import { InternalServerError } from './errors'
import type { ResolvedOptions } from './options'
import type { CompiledResourceType, SchemaRegistry } from './schema/registry'
import type { RenderContext } from './schema/render'
import type { AuthenticationScheme } from './auth'
import type { EventDelivery } from './delivery'
import type { CursorCodec } from './cursor'
import type { Deadline } from './deadline'
import type { ResourceValidator } from './validation/resource-schema'

/** The compiled router state. */
export interface Service {
  readonly adapter: ScimAdapter<unknown>
  readonly options: ResolvedOptions
  readonly registry: SchemaRegistry
  /** Uniqueness constraints per resource type name, derived from the schemas. */
  readonly unique: ReadonlyMap<string, readonly UniqueConstraint[]>
  /** Resource type name → endpoint segment, for `$ref`. */
  readonly segments: ReadonlyMap<string, string>
  readonly authenticationSchemes: readonly AuthenticationScheme[]
  /** Whether PATCH is served (advertised in ServiceProviderConfig). */
  readonly patchSupported: boolean
  /** Lifecycle events: recording with the write (outbox), first attempt, dispatcher, feed. */
  readonly delivery: EventDelivery
  /** Ajv validators of each resource type's stored attributes, compiled once (issue 4). */
  readonly validators: ReadonlyMap<string, ResourceValidator>
  /** Cursor token codec, when the adapter supports RFC 9865 cursors. */
  readonly cursor: CursorCodec | undefined
  /** Per tenant: the tail of the chain of User creates under a seat cap (serialised, see `withSeat`). */
  readonly seatLocks: Map<string, Promise<unknown>>
}

/**
 * One operation in flight, independent of HTTP so `/Bulk` runs the very same handlers as single
 * requests. Nothing is written onto `req` (CONVENTIONS §3.1).
 */
export interface Call {
  readonly query: URLSearchParams
  /** Request headers that matter to handlers (`if-match`, `if-none-match`). */
  readonly headers: IncomingHttpHeaders
  /** The parsed JSON body; undefined when the request had none. */
  readonly body: unknown
  /** The adapter context (tenant, principal). */
  readonly ctx: unknown
  readonly principal: unknown
  readonly render: RenderContext
  /** The request's deadline: its signal goes to every adapter call, writes run through it. */
  readonly deadline: Deadline
}

/** What a handler answers; `http/respond.ts` writes it. */
export interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

/** Ids the adapter returns must be non-empty strings without `bulkId` (RFC 7643 §3.1). */
export function checkStored(stored: StoredResource): StoredResource {
  if (typeof stored?.id !== 'string' || stored.id === '' || stored.id.includes('bulkId')) {
    throw new InternalServerError(undefined, { cause: new Error(`adapter returned an invalid id: ${JSON.stringify(stored?.id)}`) })
  }
  if (typeof stored.version !== 'string' || !(stored.created instanceof Date) || !(stored.lastModified instanceof Date)) {
    throw new InternalServerError(undefined, { cause: new Error(`adapter returned a resource without version/created/lastModified (id ${stored.id})`) })
  }
  return stored
}

/** Check attributes a write produced against the type's compiled JSON Schema (with `touched`, only those attributes); throws InvalidValueError. */
export function validateAttributes(svc: Service, rt: CompiledResourceType, attributes: Record<string, unknown>, touched?: ReadonlySet<string>): void {
  svc.validators.get(rt.name)?.(attributes, touched)
}

/** The resource type served at a path segment, with its uniqueness constraints. */
export function uniqueFor(svc: Service, rt: CompiledResourceType): readonly UniqueConstraint[] {
  return svc.unique.get(rt.name) ?? []
}
