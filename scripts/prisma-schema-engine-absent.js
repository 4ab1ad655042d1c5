#!/usr/bin/env node
// Stands in for Prisma's schema engine binary where it was not installed (see scripts/codegen.js):
// `prisma generate` never runs it; `prisma migrate`, `db push` and `db pull` would, and need the
// real engine (install it, or set PRISMA_SCHEMA_ENGINE_BINARY to it).
'use strict'
console.error('prisma: the schema engine binary is not installed here (only `prisma generate` works without it); install it or set PRISMA_SCHEMA_ENGINE_BINARY')
process.exit(1)
