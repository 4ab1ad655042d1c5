/**
 * The whole SCIM mapping of the existing-tables example: SCIM Users and Groups over the app's own
 * `users`, `teams` and `team_members` tables (schema.ts), one organisation per tenant (`org_id`).
 * Attributes without a column (emails, phone numbers, …) go to the one added JSON column `scim`.
 */
import type { KyselyMapping, TimestampStorage } from '../../src/kysely'

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

/** The mapping; `timestamps` is how the `TIMESTAMP` columns hold instants on the chosen database. */
export function existingTablesMapping(timestamps: TimestampStorage): KyselyMapping {
  const row = { id: 'id', tenant: 'org_id', version: 'version', created: 'created_at', lastModified: 'updated_at', timestamps, rest: 'scim' }
  return {
    resources: {
      User: {
        ...row,
        table: 'users',
        columns: {
          userName: 'email',
          'name.givenName': 'first_name',
          'name.familyName': 'last_name',
          displayName: 'display_name',
          active: { column: 'is_active', default: true }, // NOT NULL in the app's table
          externalId: 'external_id',
          [`${ENTERPRISE}:employeeNumber`]: 'employee_number',
          [`${ENTERPRISE}:department`]: 'department',
        },
      },
      Group: {
        ...row,
        table: 'teams',
        columns: { displayName: 'name', externalId: 'external_id' },
        members: { table: 'team_members', group: 'team_id', member: 'user_id' },
      },
    },
  }
}
