#!/usr/bin/env bash
# Install (Debian's mariadb-server), start a local MariaDB on 127.0.0.1:3306 and create the test
# user and database scim/scim. Idempotent; prints the connection URL to use as SCIM_MYSQL_URL.
# Loopback only.
set -euo pipefail
if ! command -v mariadbd >/dev/null 2>&1 && ! command -v mysqld >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq mariadb-server >&2
fi
if ! mariadb-admin --protocol=socket ping >/dev/null 2>&1; then
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld 2>/dev/null || true
  if command -v service >/dev/null 2>&1 && service mariadb start >&2 2>&1; then :; else
    (mysqld_safe --bind-address=127.0.0.1 >/dev/null 2>&1 &)
  fi
  for _ in $(seq 1 60); do
    mariadb-admin --protocol=socket ping >/dev/null 2>&1 && break
    sleep 1
  done
fi
mariadb --protocol=socket -e "CREATE DATABASE IF NOT EXISTS scim_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
  CREATE USER IF NOT EXISTS 'scim'@'127.0.0.1' IDENTIFIED BY 'scim';
  CREATE USER IF NOT EXISTS 'scim'@'localhost' IDENTIFIED BY 'scim';
  GRANT ALL PRIVILEGES ON \`scim\\_%\`.* TO 'scim'@'127.0.0.1';
  GRANT ALL PRIVILEGES ON \`scim\\_%\`.* TO 'scim'@'localhost';
  FLUSH PRIVILEGES;" >&2
echo "mysql://scim:scim@127.0.0.1:3306/scim_test"
