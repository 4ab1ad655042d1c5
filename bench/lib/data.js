'use strict'
/**
 * The data set every server is preloaded with, through its own storage API, before measuring:
 * 10,000 users and 100 groups. Group 0 ("All Staff") has every user as a member; groups 1..99
 * have 10 members each (users 0..989), so some users are in two groups.
 */
const USERS = Number(process.env.BENCH_USERS ?? 10000)
const GROUPS = 100
const BIG_GROUP = 'All Staff'

/** Plain SCIM User attributes (canonical names, no id/meta/schemas). */
function userAttributes(i) {
  const userName = `user${i}@example.com`
  return {
    externalId: `ext-${i}`,
    userName,
    name: { givenName: `Given${i}`, familyName: `Family${i}`, formatted: `Given${i} Family${i}` },
    displayName: `Given${i} Family${i}`,
    title: 'Engineer',
    active: true,
    emails: [{ value: userName, type: 'work', primary: true }],
  }
}

/** Group g's display name and the indexes of its member users. */
function groupSpec(g) {
  if (g === 0) return { displayName: BIG_GROUP, members: Array.from({ length: USERS }, (_, i) => i) }
  const first = ((g - 1) * 10) % USERS
  return { displayName: `Group ${g}`, members: Array.from({ length: 10 }, (_, k) => (first + k) % USERS) }
}

module.exports = { USERS, GROUPS, BIG_GROUP, userAttributes, groupSpec }
