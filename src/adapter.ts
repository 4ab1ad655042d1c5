/**
 * The storage adapter contract. The router owns HTTP and the SCIM protocol; the adapter owns
 * persistence. This file's TSDoc is the specification adapter authors implement against:
 * The exported `MemoryAdapter` is the reference implementation and a template.
 *
 * Rules every adapter follows:
 * - Object parameters plus a typed per-request context `ctx` (from the router's `context` option:
 *   tenant, principal). Everything an adapter stores or reads is scoped by what `ctx` says;
 *   nothing is shared between tenants.
 * - Reads return `null` for "not found"; writes throw the typed errors of `scim-router`
 *   (`NotFoundError`, `UniquenessError`, `PreconditionFailedError`, ...). Any other thrown error
 *   becomes a 500 with a generic message (the cause is logged on `scim:error`).
 * - Every write produces a new {@link Version}; `replace` and `delete` take an
 *   `expectedVersion` and must compare-and-swap atomically inside storage.
 * - `list` returns exactly the requested page and the true `totalResults`.
 * - Every query carries the request's {@link AdapterQuery.signal}: a write never commits once it
 *   is aborted, and rolls back when it aborts mid-transaction, so a 503 means nothing changed.
 * - Case-insensitive strings (`caseExact: false`) compare by `foldCase` (exported): NFC, then
 *   Unicode full case folding (CaseFolding.txt statuses C and F), then NFC (RFC 7643 §2.1,
 *   RFC 7644 §5). Uniqueness keys, lookup columns and any filter pushed down to storage must use
 *   exactly this function (or an SQL function computing it), so that storage rejects and finds
 *   exactly what the in-memory evaluator would: `Straße`, `STRASSE` and `STRAẞE` are one
 *   `userName`; `admın` (dotless ı) and `admin` are two. Case-exact strings compare by NFC only.
 * - Strings reaching the adapter never contain U+0000 or a lone surrogate: the router answers
 *   400 `invalidValue` for them in bodies, ids and filter literals before calling the adapter.
 * @module
 */
import type { FilterNode } from './filter/ast'
import type { AttributeInfo } from './schema/registry'

/** Opaque version of a resource; changes on every write and never repeats for a resource. Rendered as `meta.version` and `ETag: W/"<version>"`. */
export type Version = string

/**
 * A resource as stored. `attributes` holds everything the client may write plus derived values:
 * core attributes under their canonical names (`userName`, `name`, `emails`, ...), `externalId`,
 * and extension attributes in containers keyed by the extension URN
 * (`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}}`).
 * It never holds `id`, `meta` or `schemas`: the router renders those.
 *
 * For Users, the adapter returns the read-only `groups` attribute derived from Group memberships
 * (`[{ value: groupId, display: groupDisplayName, type: 'direct' }]`), in every `get` and `list`.
 */
export interface StoredResource {
  id: string
  version: Version
  created: Date
  lastModified: Date
  attributes: Record<string, unknown>
}

/** Sort instruction: the resolved attribute and direction (RFC 7644 §3.4.2.3). */
export interface SortSpec {
  attribute: AttributeInfo
  order: 'ascending' | 'descending'
}

/** A uniqueness constraint the adapter must enforce atomically with the write (RFC 7643 §2.2 `uniqueness`). */
export interface UniqueConstraint {
  /** Canonical attribute path, e.g. `userName` or `displayName`. */
  path: string
  /** When false, values collide if their `foldCase` keys are equal; when true, if they are equal after NFC (RFC 7644 §5). */
  caseExact: boolean
}

/**
 * What every adapter query carries, whichever method receives it.
 */
export interface AdapterQuery {
  /**
   * Aborted when the request's deadline (the router's `adapterTimeout`) passes; the router always
   * sets it. Its `reason` is a 503 `ServiceUnavailableError`. Once the signal is aborted:
   * - a write (`create`, `replace`, `delete`, `modifyMembers`) must not commit: check it right
   *   before the commit step (`signal.throwIfAborted()`), and roll back a transaction in progress
   *   when it aborts; then reject (preferably with `signal.reason`). A write that resolves is
   *   taken as committed, and the client gets the success response even after the deadline.
   * - a read may stop early and reject; it may also ignore the signal.
   * Optional in the type only so code that calls an adapter directly need not make one.
   */
  signal?: AbortSignal
}

/** Arguments of {@link ScimAdapter.get}. */
export interface GetQuery extends AdapterQuery {
  /** Resource type name, e.g. `User`. */
  resourceType: string
  id: string
  /**
   * Hint: top-level attributes the response will not show (from `excludedAttributes`/`attributes`),
   * e.g. `['members']` for Entra's group lookups. An adapter may skip loading or deriving them;
   * returning them anyway is correct, only slower.
   */
  omit?: readonly string[]
}

/** Arguments of {@link ScimAdapter.list}. */
export interface ListQuery extends AdapterQuery {
  resourceType: string
  /** A schema-resolved filter. Absent: every resource of the type. */
  filter?: FilterNode
  /** Sort order. Absent: ascending `created`, then ascending `id`. Always a total order. */
  sort?: SortSpec
  /** 1-based index of the first result (already clamped to ≥ 1). */
  startIndex: number
  /** Maximum number of results to return (already clamped to [0, maxPageSize]). 0 = count only. */
  count: number
  /** Hint: top-level attributes the response will not show (see {@link GetQuery.omit}). */
  omit?: readonly string[]
}

/** Result of {@link ScimAdapter.list}. */
export interface ListResult {
  /** Exactly the requested page, in order. */
  resources: StoredResource[]
  /** Number of resources matching the filter across all pages. */
  totalResults: number
}

/** Arguments of {@link ScimAdapter.listByCursor} (RFC 9865). */
export interface CursorListQuery extends AdapterQuery {
  resourceType: string
  filter?: FilterNode
  sort?: SortSpec
  /** Maximum number of results (already clamped to [0, maxPageSize]). */
  count: number
  /**
   * The adapter's own cursor from a previous `nextCursor`/`previousCursor`, or undefined for the
   * first page. The router wraps it in a signed, caller-bound token, so it never needs to be
   * tamper-proof itself; it must stay correct while resources are inserted and deleted (keyset).
   * Still parse it defensively: a token signed with the same `cursorSecret` may come from another
   * version of your adapter. Throw `InvalidCursorError` for one you cannot use, never pass it to
   * storage unchecked.
   */
  cursor?: string
}

/** Result of {@link ScimAdapter.listByCursor}. */
export interface CursorListResult {
  resources: StoredResource[]
  /** Matches across all pages, when the adapter can count them. */
  totalResults?: number
  /** Cursor of the next page; absent on the last page. */
  nextCursor?: string
  /** Cursor of the previous page; optional, never on the first page. */
  previousCursor?: string
}

/** Arguments of {@link ScimAdapter.create}. */
export interface CreateQuery extends AdapterQuery {
  resourceType: string
  /** Validated attributes (canonical names, readOnly attributes removed). `password` arrives as given. */
  attributes: Record<string, unknown>
  /** Constraints to enforce atomically; throw `UniquenessError` on a collision. */
  unique: readonly UniqueConstraint[]
  /** The change's events, for an adapter with an {@link EventOutbox} (see {@link OutboxEvents}). */
  events?: OutboxEvents<StoredResource>
}

/** Arguments of {@link ScimAdapter.replace}. */
export interface ReplaceQuery extends AdapterQuery {
  resourceType: string
  id: string
  /** The complete new attribute set (not a diff). */
  attributes: Record<string, unknown>
  /** When set, replace only if the stored version equals it; otherwise throw `PreconditionFailedError`. */
  expectedVersion?: Version
  /**
   * Hint: the resource as `get` returned it at `expectedVersion` (derived `groups` included), which
   * the router read to compute `attributes`. Versions never repeat, so while the stored version
   * still equals `expectedVersion` the stored resource is exactly this: an adapter may use it
   * instead of reading the old row again (its old uniqueness keys, its derived values) and let the
   * conditional write itself decide the compare-and-swap. Ignoring it is correct, only slower.
   */
  previous?: StoredResource
  unique: readonly UniqueConstraint[]
  /** The change's events, for an adapter with an {@link EventOutbox} (see {@link OutboxEvents}). */
  events?: OutboxEvents<StoredResource>
}

/** Arguments of {@link ScimAdapter.modifyMembers}. */
export interface ModifyMembersQuery extends AdapterQuery {
  resourceType: string
  /** The Group's id. */
  id: string
  /** Member ids to add; ids already members are left alone. Disjoint from `remove`. */
  add: readonly string[]
  /** Member ids to remove; ids that are not members are left alone. */
  remove: readonly string[]
  /** The change's events, for an adapter with an {@link EventOutbox} (see {@link OutboxEvents}). */
  events?: OutboxEvents<ModifyMembersResult>
}

/** Result of {@link ScimAdapter.modifyMembers}. */
export interface ModifyMembersResult {
  /** The Group after the change (its `members` may be omitted). Same version when nothing changed. */
  resource: StoredResource
  /** Ids actually added, in the order given. */
  added: string[]
  /** Ids actually removed. */
  removed: string[]
}

/** Arguments of {@link ScimAdapter.delete}. */
export interface DeleteQuery extends AdapterQuery {
  resourceType: string
  id: string
  /** When set, delete only if the stored version equals it; otherwise throw `PreconditionFailedError`. */
  expectedVersion?: Version
  /** The change's events, for an adapter with an {@link EventOutbox} (see {@link OutboxEvents}). */
  events?: OutboxEvents<void>
}

// ----------------------------------------------------------------------------- event outbox

/**
 * The events of one write, handed to the write call so the store records them atomically with
 * the change (the transactional outbox). A function of the write's result: the store calls it
 * once per attempt, inside the transaction (or the synchronous step), after the change is applied
 * and before it commits, with what the write would return (the created resource and its id, the
 * replaced resource, the member changes; nothing for a delete), and stores every returned
 * {@link OutboxEventInput} in the same transaction. If the write fails or rolls back, no event is
 * recorded; if it commits, exactly the returned events are. It may return an empty array (a
 * membership PATCH that changed nothing). It never throws and does no I/O.
 *
 * Only passed to adapters that have {@link ScimAdapter.outbox}; adapters without one ignore it
 * and the router delivers after the commit, at most once (see {@link EventOutbox}).
 */
export type OutboxEvents<R> = (result: R) => OutboxEventInput[]

/** One event as the router hands it to the store. */
export interface OutboxEventInput {
  /** The event's stable id (a UUIDv7): the consumer's dedupe key. Unique across all events. */
  id: string
  /** The event type, e.g. `user.deprovisioned`. */
  type: string
  /** Resource type of the resource the event is about, e.g. `User`. */
  resourceType: string
  /** The id of that resource (a Group's id for `group.members.removed` after a user delete). */
  resourceId: string
  /** The event as JSON (no request context; `at` as an ISO string). Store it as given. */
  payload: Record<string, unknown>
  /**
   * `pending` when a consumer (the router's `onEvent`) will deliver it; `delivered` when the
   * router has no consumer and the event is recorded for the feed only.
   */
  state: 'pending' | 'delivered'
  /**
   * The router's first attempt, claimed in the same transaction (saves a claim round trip and a
   * commit). When set on a pending event, the store records the event as already claimed by
   * `owner` until `until` (attempts 1) and sets `granted` to true — but only when no earlier
   * pending event of the same tenant and resource exists that `owner` does not hold (per-resource
   * order); otherwise it records the event unclaimed and leaves `granted` false. A store may
   * always ignore it (the router then claims with {@link ClaimQuery.ids}).
   */
  lease?: EventLease
}

/** See {@link OutboxEventInput.lease}. */
export interface EventLease {
  owner: string
  until: Date
  /** Set to true by the store when it recorded the event claimed. */
  granted: boolean
}

/** Delivery state of a recorded event. */
export type OutboxEventState = 'pending' | 'delivered' | 'dead'

/** An event as the store holds it (what {@link EventOutbox} methods return). */
export interface OutboxEvent {
  id: string
  /** The tenant, as the adapter names it (the same tenant key it scopes resources by). */
  tenant: string
  /**
   * Commit order: increases with every recorded event, and within a tenant an event with a higher
   * `seq` never becomes visible before one with a lower `seq` (the feed's cursor relies on it).
   * A decimal string (PostgreSQL `bigint`).
   */
  seq: string
  type: string
  resourceType: string
  resourceId: string
  payload: Record<string, unknown>
  state: OutboxEventState
  /** Delivery attempts started so far (claims). */
  attempts: number
  /** When the event is next due (pending events). */
  nextAttemptAt: Date
  /** The dispatcher holding the event, while its lease runs. */
  leaseOwner: string | null
  leaseUntil: Date | null
  createdAt: Date
  deliveredAt: Date | null
  /** The last delivery failure's message. */
  lastError: string | null
}

/** Arguments of {@link EventOutbox.claim}. */
export interface ClaimQuery {
  /** The claiming dispatcher's id (one per router instance). */
  owner: string
  /** Lease length in milliseconds: until then no other owner may claim the event. */
  leaseMs: number
  /** Most events to claim. */
  limit: number
  /** Claim only among these event ids (the router's first attempt right after a write). */
  ids?: readonly string[]
}

/** Arguments of {@link EventOutbox.list}. */
export interface EventListQuery {
  /** Only events after this `seq` (the feed's cursor); absent: from the oldest kept. */
  after?: string
  /** Most events to return. */
  limit: number
  /** Only events in this state. */
  state?: OutboxEventState
}

/**
 * Optional capability of an adapter: a durable event outbox. With it, the router hands every
 * write its events ({@link OutboxEvents}) and delivers them at least once from the store: after a
 * crash, a failing handler or a restart, and with several router instances on one database.
 * Without it, `onEvent` runs once after the commit and an event is lost if the process dies or
 * the handler fails (at most once).
 *
 * Rules for implementers (MemoryAdapter and `KyselyOutbox` of `scim-router/kysely` are references):
 * - Record events in the write's transaction (see {@link OutboxEvents}); `seq` follows commit
 *   order per tenant (PostgreSQL: take a per-tenant transaction advisory lock right before
 *   inserting the events, the last statement before COMMIT).
 * - `claim` is atomic: an event is held by at most one unexpired lease at a time
 *   (PostgreSQL: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`; SQLite: one
 *   `UPDATE … RETURNING`). It claims `pending` events that are due (`nextAttemptAt` ≤ now) and not
 *   leased (or whose lease expired), oldest `seq` first, sets the lease and increments
 *   `attempts`. Per-resource order: it never claims an event while an earlier pending event of the
 *   same tenant and resource is leased by another owner, not yet due, or (with `ids`) outside
 *   `ids`; earlier events the same owner holds, or claims in the same call, do not block.
 * - Nothing here receives the request `signal`: these calls run after the commit.
 */
export interface EventOutbox<Ctx = unknown> {
  /** Claim due events for delivery (see the rules above), in `seq` order. */
  claim(query: ClaimQuery): Promise<OutboxEvent[]>
  /** Mark pending events delivered (whoever holds them: delivery is at least once). */
  complete(query: { ids: readonly string[]; owner: string }): Promise<void>
  /**
   * Record a failed attempt by `owner`: clear the lease and set `lastError`; with `nextAttemptAt`
   * schedule the next attempt, with null move the event to `dead`. Ignored when `owner` no longer
   * holds the event.
   */
  fail(query: { id: string; owner: string; error: string; nextAttemptAt: Date | null }): Promise<void>
  /** Give back claimed events without an attempt (lease cleared, `attempts` decremented). */
  release(query: { ids: readonly string[]; owner: string }): Promise<void>
  /** The tenant's events in `seq` order (the feed), including dead and pending ones. */
  list(query: EventListQuery, ctx: Ctx): Promise<OutboxEvent[]>
  /** Make `dead` (or delivered) events pending again, due now, with `attempts` 0; returns how many. */
  redeliver(query: { ids: readonly string[] }, ctx: Ctx): Promise<number>
  /**
   * Retention: delete `delivered` events delivered before `deliveredBefore`, and beyond the newest
   * `keep` events of each tenant (pending and dead events are never deleted). Returns how many.
   */
  prune(query: { deliveredBefore?: Date; keep?: number }): Promise<number>
  /**
   * Optional: the tenant's events of one resource, newest first (`seq` descending), at most
   * `limit`, every state — for a resource's history (`resourceHistory`, the console). Serve it
   * from an index on (tenant, resource type, resource id, seq). Without it, the history scans the
   * feed (bounded).
   */
  listForResource?(query: { resourceType: string; resourceId: string; limit: number }, ctx: Ctx): Promise<OutboxEvent[]>
}

/**
 * The storage adapter a host application implements.
 *
 * @typeParam Ctx - the per-request context produced by the router's `context` option.
 */
export interface ScimAdapter<Ctx = unknown> {
  /** Read one resource, or `null` when it does not exist (or belongs to another tenant). */
  get(query: GetQuery, ctx: Ctx): Promise<StoredResource | null>
  /**
   * Query resources. Apply `filter` (the router has resolved it against the schema), `sort`, and
   * return the page `[startIndex, startIndex + count)` plus the true `totalResults`.
   * If `canFilter` is implemented and returns false for a filter, the router does not pass that
   * filter here and evaluates it in memory instead; likewise `sort` when `canSort` returns false.
   * @throws TooManyError when the query is over the adapter's processing limit.
   */
  list(query: ListQuery, ctx: Ctx): Promise<ListResult>
  /**
   * Store a new resource with a new id (unique across all types, never containing `bulkId`).
   * @throws UniquenessError when a {@link UniqueConstraint} would be violated.
   */
  create(query: CreateQuery, ctx: Ctx): Promise<StoredResource>
  /**
   * Replace all attributes of a resource, atomically comparing `expectedVersion` when given.
   * For a Group, `members` in `attributes` is the complete new membership.
   * @throws NotFoundError when the resource does not exist.
   * @throws PreconditionFailedError when `expectedVersion` does not match.
   * @throws UniquenessError when a {@link UniqueConstraint} would be violated.
   */
  replace(query: ReplaceQuery, ctx: Ctx): Promise<StoredResource>
  /**
   * Delete a resource. Deleting a User removes it from every Group's `members`.
   * @throws NotFoundError when the resource does not exist.
   * @throws PreconditionFailedError when `expectedVersion` does not match.
   */
  delete(query: DeleteQuery, ctx: Ctx): Promise<void>
  /**
   * Optional: add and remove Group members without rewriting the Group. Member changes commute, so
   * the adapter applies them atomically without a version check (lock the group row, insert/delete
   * membership rows, bump the version if anything changed, and the changed members' versions).
   * The router uses it for PATCH requests that only add or remove members (every IdP's group
   * push), so concurrent membership changes to one group never contend.
   * @throws NotFoundError, InvalidValueError (unknown member id).
   */
  modifyMembers?(query: ModifyMembersQuery, ctx: Ctx): Promise<ModifyMembersResult>
  /**
   * Optional: RFC 9865 cursor pagination, a keyset page after `cursor`. When present, the router
   * serves `cursor` on GET and `.search` and advertises `pagination.cursor: true`.
   * @throws InvalidCursorError for a `cursor` it cannot parse (RFC 9865 §2.1: 400 invalidCursor).
   */
  listByCursor?(query: CursorListQuery, ctx: Ctx): Promise<CursorListResult>
  /**
   * Optional: whether `list` can evaluate this filter itself. Absent means "every filter".
   * When false, the router lists without the filter (in pages, up to its scan limit) and
   * evaluates it in memory with the same semantics as `compileFilter`.
   */
  canFilter?(filter: FilterNode, resourceType: string): boolean
  /**
   * Optional: whether `list` (and `listByCursor`) can order by this sort itself. Absent means
   * "every sort". When false, the router lists the (filtered) candidates without the sort, in
   * pages up to its scan limit (more is 400 tooMany), and sorts and pages them in memory with
   * `compareForSort` (RFC 7644 §3.4.2.3); cursor pages are then keyset pages over that order.
   * Answer false for attributes the store cannot order by with SCIM's semantics, e.g. the derived
   * `groups.display` or an attribute kept in a JSON column.
   * @example
   * canSort: (sort) => sort.attribute.path === 'userName' || sort.attribute.path === 'meta.created'
   */
  canSort?(sort: SortSpec, resourceType: string): boolean
  /** Optional capabilities advertised through `/ServiceProviderConfig`. */
  capabilities?: AdapterCapabilities
  /**
   * Optional: a durable event outbox ({@link EventOutbox}). When present, every write method
   * must record the events it receives in `events` atomically with the change.
   */
  outbox?: EventOutbox<Ctx>
}

/** What an adapter supports beyond the required methods. */
export interface AdapterCapabilities {
  /**
   * `list` honours {@link ListQuery.sort}. Default true. False: `sortBy` is ignored and
   * `/ServiceProviderConfig` says sorting is unsupported; to have the router sort in memory
   * instead, leave this true and answer false from {@link ScimAdapter.canSort}.
   */
  sort?: boolean
  /** The adapter stores passwords (hashed), so password changes reach it. Default false. */
  changePassword?: boolean
}

const REQUIRED_METHODS = ['get', 'list', 'create', 'replace', 'delete'] as const
const OUTBOX_METHODS = ['claim', 'complete', 'fail', 'release', 'list', 'redeliver', 'prune'] as const

/**
 * Check an adapter's shape; throws a `TypeError` naming what is missing. Called by `scimRouter()`
 * so a wrong adapter fails at startup, not on the first request.
 */
export function assertAdapter(adapter: unknown): asserts adapter is ScimAdapter<unknown> {
  if (typeof adapter !== 'object' || adapter === null) {
    throw new TypeError('scimRouter(adapter): adapter must be an object implementing ScimAdapter (see MemoryAdapter)')
  }
  const missing = REQUIRED_METHODS.filter((m) => typeof (adapter as Record<string, unknown>)[m] !== 'function')
  if (missing.length > 0) {
    throw new TypeError(`scimRouter(adapter): adapter is missing method(s) ${missing.join(', ')} (see ScimAdapter in scim-router)`)
  }
  for (const name of ['canFilter', 'canSort', 'listByCursor', 'modifyMembers']) {
    const fn = (adapter as Record<string, unknown>)[name]
    if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`scimRouter(adapter): adapter.${name} must be a function when present`)
  }
  const outbox = (adapter as Record<string, unknown>)['outbox']
  if (outbox !== undefined) {
    const bad = OUTBOX_METHODS.filter((m) => typeof (outbox as Record<string, unknown> | null)?.[m] !== 'function')
    if (bad.length > 0) throw new TypeError(`scimRouter(adapter): adapter.outbox is missing method(s) ${bad.join(', ')} (see EventOutbox in scim-router)`)
  }
}
