/**
 * The RFC 7643 §8.7.1 core schemas (User, Group) and the §4.3 Enterprise User extension, with three
 * corrections where §8.7.1 contradicts the RFC's prose and examples (Group `displayName` required
 * per §4.2, `members.display` per the §8.4 example, `addresses.primary` per §2.4).
 * @module
 */
import { defineAttribute as a, type AttributeInput, type SchemaDefinition, type ResourceTypeDefinition } from './types'

/** Core User schema URN (RFC 7643 §4.1). */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
/** Core Group schema URN (RFC 7643 §4.2). */
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
/** Enterprise User extension URN (RFC 7643 §4.3). */
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
/** ServiceProviderConfig schema URN (RFC 7643 §5). */
export const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'
/** ResourceType schema URN (RFC 7643 §6). */
export const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType'
/** Schema schema URN (RFC 7643 §7). */
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema'
/** ListResponse message URN (RFC 7644 §3.4.2). */
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
/** Error message URN (RFC 7644 §3.12). */
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
/** PatchOp message URN (RFC 7644 §3.5.2). */
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
/** SearchRequest message URN (RFC 7644 §3.4.3). */
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'

const str = (name: string, description: string, extra: Partial<AttributeInput> = {}): AttributeInput => ({
  name,
  description,
  ...extra,
})

/** The sub-attributes shared by the multi-valued attributes of RFC 7643 §2.4. */
function multi(
  name: string,
  description: string,
  types: string[],
  valueExtra: Partial<AttributeInput> = {},
  extraSubs: AttributeInput[] = [],
): AttributeInput {
  return {
    name,
    type: 'complex',
    multiValued: true,
    description,
    subAttributes: [
      str('value', `${name} value.`, valueExtra),
      str('display', 'A human-readable name, primarily used for display purposes.'),
      str('type', `A label indicating the attribute's function.`, types.length ? { canonicalValues: types } : {}),
      { name: 'primary', type: 'boolean', description: `A Boolean value indicating the 'primary' or preferred attribute value for this attribute.` },
      ...extraSubs,
    ],
  }
}

const userAttributes: AttributeInput[] = [
  str('userName', 'Unique identifier for the User, typically used by the user to directly authenticate to the service provider. REQUIRED.', {
    required: true,
    uniqueness: 'server',
  }),
  {
    name: 'name',
    type: 'complex',
    description: "The components of the user's real name.",
    subAttributes: [
      str('formatted', 'The full name, including all middle names, titles, and suffixes as appropriate, formatted for display.'),
      str('familyName', 'The family name of the User.'),
      str('givenName', 'The given name of the User.'),
      str('middleName', 'The middle name(s) of the User.'),
      str('honorificPrefix', 'The honorific prefix(es) of the User.'),
      str('honorificSuffix', 'The honorific suffix(es) of the User.'),
    ],
  },
  str('displayName', 'The name of the User, suitable for display to end-users.'),
  str('nickName', 'The casual way to address the user in real life.'),
  str('profileUrl', "A fully qualified URL pointing to a page representing the User's online profile.", {
    type: 'reference',
    referenceTypes: ['external'],
  }),
  str('title', "The user's title, such as \"Vice President.\""),
  str('userType', 'Used to identify the relationship between the organization and the user.'),
  str('preferredLanguage', "Indicates the User's preferred written or spoken language."),
  str('locale', "Used to indicate the User's default location for purposes of localizing items such as currency."),
  str('timezone', "The User's time zone in the 'Olson' time zone database format."),
  { name: 'active', type: 'boolean', description: "A Boolean value indicating the User's administrative status." },
  str('password', "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.", {
    mutability: 'writeOnly',
    returned: 'never',
  }),
  multi('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
  multi('phoneNumbers', 'Phone numbers for the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  multi('ims', 'Instant messaging addresses for the User.', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
  multi('photos', 'URLs of photos of the User.', ['photo', 'thumbnail'], { type: 'reference', referenceTypes: ['external'] }),
  {
    name: 'addresses',
    type: 'complex',
    multiValued: true,
    description: 'A physical mailing address for this User.',
    subAttributes: [
      str('formatted', 'The full mailing address, formatted for display or use with a mailing label.'),
      str('streetAddress', 'The full street address component.'),
      str('locality', 'The city or locality component.'),
      str('region', 'The state or region component.'),
      str('postalCode', 'The zip code or postal code component.'),
      str('country', 'The country name component.'),
      str('type', 'A label indicating the attribute\'s function.', { canonicalValues: ['work', 'home', 'other'] }),
      { name: 'primary', type: 'boolean', description: "A Boolean value indicating the 'primary' or preferred address." },
    ],
  },
  {
    name: 'groups',
    type: 'complex',
    multiValued: true,
    mutability: 'readOnly',
    description: 'A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.',
    subAttributes: [
      str('value', "The identifier of the User's group.", { mutability: 'readOnly' }),
      str('$ref', "The URI of the corresponding 'Group' resource to which the user belongs.", {
        type: 'reference',
        referenceTypes: ['User', 'Group'],
        mutability: 'readOnly',
      }),
      str('display', 'A human-readable name, primarily used for display purposes.', { mutability: 'readOnly' }),
      str('type', "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.", {
        canonicalValues: ['direct', 'indirect'],
        mutability: 'readOnly',
      }),
    ],
  },
  multi('entitlements', 'A list of entitlements for the User that represent a thing the User has.', []),
  multi('roles', 'A list of roles for the User that collectively represent who the User is.', []),
  {
    name: 'x509Certificates',
    type: 'complex',
    multiValued: true,
    description: 'A list of certificates issued to the User.',
    subAttributes: [
      { name: 'value', type: 'binary', description: 'The value of an X.509 certificate.' },
      str('display', 'A human-readable name, primarily used for display purposes.'),
      str('type', "A label indicating the attribute's function."),
      { name: 'primary', type: 'boolean', description: "A Boolean value indicating the 'primary' or preferred attribute value." },
    ],
  },
]

/** RFC 7643 §8.7.1 User schema. */
export const userSchema: SchemaDefinition = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: userAttributes.map(a),
}

/** RFC 7643 §8.7.1 Group schema, `displayName` required (per RFC 7643 §4.2) and `members.display` readOnly. */
export const groupSchema: SchemaDefinition = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: ([
    str('displayName', 'A human-readable name for the Group. REQUIRED.', { required: true }),
    {
      name: 'members',
      type: 'complex',
      multiValued: true,
      description: 'A list of members of the Group.',
      subAttributes: [
        str('value', 'Identifier of the member of this Group.', { mutability: 'immutable' }),
        str('$ref', 'The URI corresponding to a SCIM resource that is a member of this Group.', {
          type: 'reference',
          referenceTypes: ['User', 'Group'],
          mutability: 'immutable',
        }),
        str('type', 'A label indicating the type of resource, e.g., \'User\' or \'Group\'.', {
          canonicalValues: ['User', 'Group'],
          mutability: 'immutable',
        }),
        str('display', 'A human-readable name for the member.', { mutability: 'readOnly' }),
      ],
    },
  ] as AttributeInput[]).map(a),
}

/** RFC 7643 §4.3 Enterprise User extension. */
export const enterpriseUserSchema: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: ([
    str('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.'),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organization.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    {
      name: 'manager',
      type: 'complex',
      description: "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
      subAttributes: [
        str('value', "The id of the SCIM resource representing the User's manager. REQUIRED."),
        str('$ref', "The URI of the SCIM resource representing the User's manager. REQUIRED.", {
          type: 'reference',
          referenceTypes: ['User'],
        }),
        str('displayName', "The displayName of the User's manager. OPTIONAL and READ-ONLY.", { mutability: 'readOnly' }),
      ],
    },
  ] as AttributeInput[]).map(a),
}

/**
 * Common attributes of RFC 7643 §3.1. They are not part of any schema document but are filterable,
 * sortable and projectable on every resource type.
 */
export const commonAttributes = [
  a(str('id', 'Unique identifier for the SCIM resource as defined by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  })),
  a(str('externalId', 'A String that is an identifier for the resource as defined by the provisioning client.', { caseExact: true })),
  a({
    name: 'meta',
    type: 'complex',
    mutability: 'readOnly',
    description: 'A complex attribute containing resource metadata.',
    subAttributes: [
      str('resourceType', 'The name of the resource type of the resource.', { caseExact: true, mutability: 'readOnly' }),
      { name: 'created', type: 'dateTime', mutability: 'readOnly', description: 'The DateTime that the resource was added to the service provider.' },
      { name: 'lastModified', type: 'dateTime', mutability: 'readOnly', description: 'The most recent DateTime that the details of this resource were updated at the service provider.' },
      str('location', 'The URI of the resource being returned.', { type: 'reference', caseExact: true, mutability: 'readOnly' }),
      str('version', 'The version of the resource being returned.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
]

/** The `schemas` attribute, filterable per RFC 7644 §3.4.2.2. */
export const schemasAttribute = a({
  name: 'schemas',
  multiValued: true,
  type: 'reference',
  mutability: 'readOnly',
  returned: 'always',
  description: 'The schemas of the resource.',
})

/** The User resource type (RFC 7643 §6), with the optional Enterprise extension (RFC 7643 §4.3). */
export const userResourceType: ResourceTypeDefinition = {
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: USER_SCHEMA,
  schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
}

/** The Group resource type (RFC 7643 §6). */
export const groupResourceType: ResourceTypeDefinition = {
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: GROUP_SCHEMA,
  schemaExtensions: [],
}
