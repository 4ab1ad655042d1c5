'use strict'
/**
 * The data set every server is preloaded with, through its own storage API, before measuring:
 * 10,000 users and 100 groups. Group 0 ("All Staff") has every user as a member; groups 1..99
 * have 10 members each (users 0..989), so some users are in two groups.
 *
 * Two shapes of User (BENCH_DATASET, set per server by the runner):
 *   full   (default) what an IdP really provisions: core attributes (name, displayName, nickName,
 *          title, userType, preferredLanguage, locale, timezone, active), two emails, two phone
 *          numbers, two addresses and the enterprise extension (employeeNumber, costCenter,
 *          organization, division, department, manager); about 1.3 kB of JSON per user.
 *   small  userName, name, displayName, title, active, one email and externalId (about 0.3 kB).
 */
const USERS = Number(process.env.BENCH_USERS ?? 10000)
const GROUPS = 100
const BIG_GROUP = 'All Staff'
const DATASET = process.env.BENCH_DATASET === 'small' ? 'small' : 'full'
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const DEPARTMENTS = ['Engineering', 'Sales', 'Marketing', 'Finance', 'Support', 'Operations', 'Legal', 'People']

/** The `schemas` a User of this dataset carries. */
const USER_SCHEMAS = DATASET === 'full' ? [USER, ENTERPRISE] : [USER]

/** Plain SCIM User attributes (canonical names, no id/meta/schemas). */
function userAttributes(i) {
  const userName = `user${i}@example.com`
  const small = {
    externalId: `ext-${i}`,
    userName,
    name: { givenName: `Given${i}`, familyName: `Family${i}`, formatted: `Given${i} Family${i}` },
    displayName: `Given${i} Family${i}`,
    title: 'Engineer',
    active: true,
    emails: [{ value: userName, type: 'work', primary: true }],
  }
  if (DATASET === 'small') return small
  const dept = DEPARTMENTS[i % DEPARTMENTS.length]
  const n = String(i).padStart(6, '0')
  return {
    ...small,
    name: { ...small.name, middleName: 'Q', honorificPrefix: 'Ms.' },
    nickName: `G${i}`,
    userType: 'Employee',
    preferredLanguage: 'en-GB',
    locale: 'en-GB',
    timezone: 'Europe/London',
    emails: [
      { value: userName, type: 'work', primary: true },
      { value: `given${i}.family${i}@home.example.org`, type: 'home' },
    ],
    phoneNumbers: [
      { value: `+44 20 7946 ${n.slice(2)}`, type: 'work', primary: true },
      { value: `+44 7700 9${n}`, type: 'mobile' },
    ],
    addresses: [
      { type: 'work', streetAddress: `${(i % 200) + 1} Example Street`, locality: 'London', region: 'Greater London', postalCode: 'EC1A 1BB', country: 'GB', formatted: `${(i % 200) + 1} Example Street\nLondon EC1A 1BB\nGB`, primary: true },
      { type: 'home', streetAddress: `${(i % 90) + 1} Home Road`, locality: 'Bristol', postalCode: 'BS1 4DJ', country: 'GB' },
    ],
    [ENTERPRISE]: {
      employeeNumber: `E${n}`,
      costCenter: `CC-${100 + (i % 40)}`,
      organization: 'Example Ltd',
      division: i % 2 ? 'Product' : 'Go-to-market',
      department: dept,
      ...(i > 0 ? { manager: { value: `mgr-${Math.floor(i / 10)}`, displayName: `Manager ${Math.floor(i / 10)}` } } : {}),
    },
  }
}

/** Group g's display name and the indexes of its member users. */
function groupSpec(g) {
  if (g === 0) return { displayName: BIG_GROUP, members: Array.from({ length: USERS }, (_, i) => i) }
  const first = ((g - 1) * 10) % USERS
  return { displayName: `Group ${g}`, members: Array.from({ length: 10 }, (_, k) => (first + k) % USERS) }
}

module.exports = { USERS, GROUPS, BIG_GROUP, DATASET, USER_SCHEMAS, ENTERPRISE, userAttributes, groupSpec }
