/**
 * scim-router: a SCIM 2.0 service provider (RFC 7643, RFC 7644) as an Express/Connect middleware
 * over a typed storage adapter.
 * @packageDocumentation
 */
export { scimRouter } from './router'
export type { ScimMiddleware, ScimRouter, ScimOperation, ScimOperationResult } from './router'
export { retryDelay } from './delivery'
export { webhookSender, signWebhook, webhookBody } from './webhooks'
export type { WebhookEndpoint, WebhookOptions } from './webhooks'
export type { EventDeliveryOptions, ScimEvents, EventFeedPage } from './delivery'
export type {
  ScimRouterOptions,
  DefaultContext,
  SchemaInput,
  ExtensionRegistration,
  ResourceTypeRegistration,
  FilterLimits,
} from './options'
export { MemoryAdapter } from './memory-adapter'
export { uuidv7 } from './ids'
export type { MemoryAdapterOptions } from './memory-adapter'
export { recordAdapter } from './storage/records'
export type {
  RecordStore,
  StoredRecord,
  RecordWrite,
  RecordQuery,
  RecordGetQuery,
  RecordLookupQuery,
  RecordScanQuery,
  RecordCommit,
  RecordAdapterOptions,
} from './storage/records'
export type {
  ScimAdapter,
  AdapterQuery,
  AdapterCapabilities,
  StoredResource,
  Version,
  GetQuery,
  ListQuery,
  ListResult,
  CreateQuery,
  ReplaceQuery,
  DeleteQuery,
  CursorListQuery,
  CursorListResult,
  ModifyMembersQuery,
  ModifyMembersResult,
  SortSpec,
  UniqueConstraint,
  EventOutbox,
  EventLease,
  OutboxEvent,
  OutboxEventInput,
  OutboxEventState,
  OutboxEvents,
  ClaimQuery,
  EventListQuery,
} from './adapter'
export { bearerToken, basicAuth, headerToken, BEARER_SCHEME, BASIC_SCHEME, HEADER_TOKEN_SCHEME } from './auth'
export type { Authenticate, AuthenticationScheme, TokenAuthenticate } from './auth'
export { jwtBearer } from './jwt'
export type { JwtBearerOptions, JwtPrincipal } from './jwt'
export {
  ScimError,
  InvalidFilterError,
  TooManyError,
  InvalidSyntaxError,
  InvalidPathError,
  NoTargetError,
  InvalidValueError,
  MutabilityError,
  InvalidVersionError,
  InvalidCursorError,
  SensitiveError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  MethodNotAllowedError,
  UniquenessError,
  PreconditionFailedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  InternalServerError,
  NotImplementedError,
  TooManyRequestsError,
  ServiceUnavailableError,
  isScimError,
} from './errors'
export type { ScimType, ScimErrorEnvelope } from './errors'
export type {
  AttributeDefinition,
  AttributeInput,
  AttributeType,
  Mutability,
  Returned,
  Uniqueness,
  SchemaDefinition,
  ResourceTypeDefinition,
} from './schema/types'
export type { AttributeInfo } from './schema/registry'
export {
  USER_SCHEMA,
  GROUP_SCHEMA,
  ENTERPRISE_USER_SCHEMA,
  userSchema,
  groupSchema,
  enterpriseUserSchema,
} from './schema/core-schemas'
export { parseFilter, parsePath, compileFilter, compareForSort, compareDefault, DEFAULT_FILTER_LIMITS } from './filter'
export type {
  FilterNode,
  CompareNode,
  PresentNode,
  AndNode,
  OrNode,
  NotNode,
  ValuePathNode,
  CompareOperator,
  CompareValue,
  PatchPath,
  ScimResourceView,
  SortOrder,
  ResourceComparator,
} from './filter'
export type { ScimEvent, ScimEventType, ScimEventBase, EventHandler } from './events'
export { createRegistry, AmbiguousAttributeError } from './schema/registry'
export { defineAttribute } from './schema/types'
export type { CompiledResourceType, SchemaRegistry } from './schema/registry'
export { toView } from './schema/view'
export { foldCase } from './schema/casefold'
export { applyPatch } from './patch/apply'
export type { PatchOptions, PatchResult } from './patch/apply'
export { parsePatchRequest } from './patch/operations'
export type { PatchOperation } from './patch/operations'
export { Connections, MemoryConnectionStore, connectionAuth, connectionSettings, checkConnectionSettings, CONNECTION_TOKEN_PREFIX } from './connections'
export { Decommissioner } from './decommission'
export type { DecommissionerOptions, DecommissionRequest } from './decommission'
export type { RequestSettings } from './settings'
export type {
  ConnectionStore,
  ConnectionSettings,
  ConnectionUpdate,
  DecommissionState,
  RateLimit,
  StoredConnection,
  StoredConnectionToken,
  ConnectionInfo,
  CreatedConnection,
  ConnectionPrincipal,
  ConnectionsOptions,
  ConnectionAuthOptions,
} from './connections'
export { MemoryRequestLog } from './request-log/memory'
export { detectIdp } from './request-log/idp'
export { resourceHistory } from './request-log/history'
export { REDACTED } from './request-log/redact'
export { REQUEST_ID_HEADER } from './request-log/recorder'
export type { RequestLogOptions, RequestLogControl } from './request-log/recorder'
export type { HistoryEvent, HistoryItem, ResourceHistory, ResourceHistoryOptions } from './request-log/history'
export type {
  IdpName,
  RequestLog,
  RequestLogEntry,
  RequestLogQuery,
  RequestLogPage,
  RequestLogBucket,
  RequestLogStatsQuery,
  RequestLogPruneQuery,
} from './request-log/types'
export { scimConsole, requestLogQuery, CONSOLE_CSP } from './console'
export type { ScimConsoleOptions } from './console'
