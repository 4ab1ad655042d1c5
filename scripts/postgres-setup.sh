#!/usr/bin/env bash
# Install (Debian's postgresql), start a local PostgreSQL and create the test role and database.
# Idempotent; prints the connection URL to use as SCIM_PG_URL. Loopback only.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -qAtc \"select 1 from pg_roles where rolname='scim'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role scim login password 'scim' createdb\"" >&2
su postgres -c "psql -qAtc \"select 1 from pg_database where datname='scim_test'\"" | grep -q 1 ||
  su postgres -c "psql -qc 'create database scim_test owner scim'" >&2
echo "postgres://scim:scim@127.0.0.1:5432/scim_test"
