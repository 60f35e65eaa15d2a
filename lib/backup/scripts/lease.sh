#!/bin/sh
# The maintenance lock, from inside the cluster: the nightly job's side of the Lease the PC's
# client takes (client/maintenance.ts says why a Lease, and what its annotations mean).
# Runs in the Nextcloud image (curl is there) with the job's service account token, which may
# only read, create and renew this one Lease (lib/backup/backup.ts).
#
#   lease.sh take      exit 0: taken (or held by the command that started this Job:
#                      MAINTENANCE_HOLDER); exit 3 with one line on stdout: why not
#   lease.sh renew     exit 0 while it is still ours; 3 when someone took it over. A run started
#                      by a command that has since died (PC off, window closed) takes the lock
#                      over from it: the run goes on, so the lock must go on being held
#                      (otherwise a restore could start while this backup still copies)
#   lease.sh release   removes it if it is still ours
#
# The Lease's resourceVersion makes every write conditional: of two takers one gets 409.
set -eu

# A run a command started (npm run backup, the backup before an update) is a "backup"; the
# scheduled one is "nightly".
[ -n "${MAINTENANCE_HOLDER:-}" ] && started_by=command || started_by=schedule
op=${LEASE_OPERATION:-$([ "$started_by" = command ] && echo backup || echo nightly)}
sa=${SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
api=${KUBERNETES_API:-https://kubernetes.default.svc}
namespace=${LEASE_NAMESPACE:-$(cat "$sa/namespace")}
seconds=${LEASE_SECONDS:-60}
state=${LEASE_STATE:?LEASE_STATE names a file this run keeps the Lease version in}
identity=${LEASE_IDENTITY:-$op@$(hostname)}
from=${LEASE_FROM:-the $([ "$started_by" = command ] && echo backup || echo nightly) job (pod $(hostname))}
url="$api/apis/coordination.k8s.io/v1/namespaces/$namespace/leases/maintenance"
body="$state.body"
header="$state.auth"

# The token goes to curl in a file, never on a command line a process list would show.
umask 077
printf 'Authorization: Bearer %s\n' "$(cat "$sa/token")" > "$header"
trap 'rm -f "$header" "$body"' EXIT

call() { # METHOD URL [JSON]: the body in $body, the HTTP status on stdout
  # (Named: the API server pretty-prints its JSON for a program that says it is curl, and
  # field() below reads the compact form.)
  if [ $# -gt 2 ]; then
    printf '%s' "$3" | curl -sS --max-time 20 -A homecloud-lease --cacert "$sa/ca.crt" -H @"$header" -H 'Content-Type: application/json' \
      -X "$1" --data-binary @- -o "$body" -w '%{http_code}' "$2" || true
  else
    curl -sS --max-time 20 -A homecloud-lease --cacert "$sa/ca.crt" -H @"$header" -X "$1" -o "$body" -w '%{http_code}' "$2" || true
  fi
  # (curl says 000 itself when nothing answered.)
}
field() { # NAME: a string field of the JSON in $body (the API server writes it compact)
  sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$body" | head -n 1
}
number() { sed -n "s/.*\"$1\":\([0-9][0-9]*\).*/\1/p" "$body" | head -n 1; }
epoch() { # a Kubernetes time (2026-12-06T01:30:00.000000Z) in seconds
  date -u -d "$(echo "$1" | sed 's/T/ /; s/\..*//; s/Z$//')" +%s 2>/dev/null || echo 0
}
now_micro() { date -u +%Y-%m-%dT%H:%M:%S.000000Z; }
lease_json() { # RESOURCE_VERSION ACQUIRED
  t=$(now_micro)
  printf '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"maintenance","namespace":"%s",%s"labels":{"app.kubernetes.io/part-of":"homecloud"},"annotations":{"homecloud.io/operation":"%s","homecloud.io/from":"%s","homecloud.io/step":"%s","homecloud.io/detail":"","homecloud.io/undo":""}},"spec":{"holderIdentity":"%s","leaseDurationSeconds":%s,"acquireTime":"%s","renewTime":"%s"}}' \
    "$namespace" "${1:+\"resourceVersion\":\"$1\",}" "$op" "$from" "${LEASE_STEP:-}" "$identity" "$seconds" "${2:-$t}" "$t"
}

take() {
  code=$(call GET "$url")
  case $code in
    404)
      code=$(call POST "$api/apis/coordination.k8s.io/v1/namespaces/$namespace/leases" "$(lease_json)")
      [ "$code" = 201 ] && { field resourceVersion > "$state"; field acquireTime >> "$state"; echo taken; return 0; }
      [ "$code" = 409 ] && { take; return; }
      echo "the maintenance lock could not be taken (HTTP $code)"; return 3 ;;
    200) ;;
    *) echo "the maintenance lock could not be read (HTTP $code)"; return 3 ;;
  esac
  holder=$(field holderIdentity)
  # The command that started this Job holds it: the Job works under its lock.
  if [ -n "$holder" ] && [ "$holder" = "${MAINTENANCE_HOLDER:-}" ]; then
    : > "$state"
    echo "held by the command that started this run"
    return 0
  fi
  what=$(field 'homecloud.io\/operation')
  where=$(field 'homecloud.io\/from')
  step=$(field 'homecloud.io\/step')
  renewed=$(field renewTime)
  duration=$(number leaseDurationSeconds)
  if [ -n "$holder" ] && alive "$renewed" "$duration"; then
    echo "${what:-something} from ${where:-somewhere} holds the maintenance lock${step:+ (now: $step)}"
    return 3
  fi
  # A holder that died: a restore cut short left the data half-restored, and a backup of it
  # would become the newest snapshot, the one the next restore picks.
  if [ -n "$holder" ] && [ "$step" = restoring ]; then
    echo "a restore from ${where:-somewhere} was cut short and left the data half-restored; it must be finished first (npm run restore)"
    return 3
  fi
  code=$(call PUT "$url" "$(lease_json "$(field resourceVersion)")")
  [ "$code" = 200 ] && { field resourceVersion > "$state"; field acquireTime >> "$state"; echo "taken${holder:+ over from $what, which stopped answering}"; return 0; }
  [ "$code" = 409 ] && { take; return; }
  echo "the maintenance lock could not be taken (HTTP $code)"
  return 3
}

alive() { # RENEW_TIME DURATION: renewed within its lease
  [ $(( $(date -u +%s) - $(epoch "${1:-1970-01-01T00:00:00Z}") )) -lt "${2:-60}" ]
}

renew() {
  if [ ! -s "$state" ]; then
    # Held by the command that started this run, which renews it while it lives.
    [ -n "${MAINTENANCE_HOLDER:-}" ] || return 0
    [ "$(call GET "$url")" = 200 ] || return 0
    [ "$(field holderIdentity)" = "$MAINTENANCE_HOLDER" ] || return 0
    alive "$(field renewTime)" "$(number leaseDurationSeconds)" && return 0
    code=$(call PUT "$url" "$(lease_json "$(field resourceVersion)")")
    [ "$code" = 200 ] || return 0
    field resourceVersion > "$state"
    field acquireTime >> "$state"
    echo "the command that started this run stopped answering: this run holds the maintenance lock now"
    return 0
  fi
  { read -r version; read -r acquired; } < "$state"
  code=$(call PUT "$url" "$(lease_json "$version" "$acquired")")
  if [ "$code" = 200 ]; then field resourceVersion > "$state"; echo "$acquired" >> "$state"; return 0; fi
  [ "$code" = 000 ] && return 0 # the API server did not answer this once: the next beat tries again
  echo "the maintenance lock was taken over (HTTP $code)"
  return 3
}

release() {
  [ -s "$state" ] || return 0
  read -r version < "$state"
  code=$(call DELETE "$url" "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"preconditions\":{\"resourceVersion\":\"$version\"}}")
  rm -f "$state"
  case $code in 200|202|404|409) return 0 ;; esac
  echo "the maintenance lock could not be released (HTTP $code); it expires by itself within $seconds s"
  return 1
}

case ${1:-} in
  take) take ;;
  renew) renew ;;
  release) release ;;
  *) echo "usage: lease.sh take|renew|release" >&2; exit 2 ;;
esac
