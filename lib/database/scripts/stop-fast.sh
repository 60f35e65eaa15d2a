#!/bin/sh
# preStop hook of the PostgreSQL container. Kubernetes stops containers with SIGTERM, which
# PostgreSQL treats as a "smart" shutdown that waits for every client to leave; on a busy
# night that ends in SIGKILL and crash recovery. Ask for a fast shutdown instead.
# pg_ctl refuses to run as root, so switch to the postgres user with whichever helper the
# image ships (newer images gosu, older Alpine ones su-exec).
set -eu
: "${PGDATA:?PGDATA is not set}"
for helper in gosu su-exec; do
  if command -v "$helper" >/dev/null 2>&1; then
    exec "$helper" postgres pg_ctl stop -D "$PGDATA" -m fast -w -t "${STOP_TIMEOUT_SECONDS:-50}"
  fi
done
echo "stop-fast: neither gosu nor su-exec is in this image; leaving the shutdown to SIGTERM" >&2
exit 1
