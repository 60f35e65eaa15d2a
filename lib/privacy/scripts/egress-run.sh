#!/bin/sh
# The egress point's container (lib/privacy/egress.ts): Squid in the foreground, admitting only
# the destinations in its squid.conf, and its ledger turned over every midnight (local time, TZ)
# so the volume holds the last eight days and no more. Stops Squid when the pod stops.
#   EGRESS_CONF   squid.conf        SQUID   the squid program (default: squid)
set -u
CONF=${EGRESS_CONF:?EGRESS_CONF is not set}
SQUID=${SQUID:-squid}

# A pid file left by a Squid that was killed (the PC switched off) would stop this one starting.
run_dir=$(sed -n 's/^pid_filename \(.*\)\/squid.pid$/\1/p' "$CONF")
[ -n "$run_dir" ] && rm -f "$run_dir/squid.pid"

echo "homecloud egress: admitting only: $(sed -n 's/^acl allowed dstdomain -n //p' "$CONF" | tr '\n' ' ')"
$SQUID -N -f "$CONF" &
squid_pid=$!
stopping=
# shellcheck disable=SC2064 # the pid is known now
trap "stopping=1; kill -TERM $squid_pid 2>/dev/null" TERM INT

# The log is turned over when the local date changes (checked every EGRESS_TICK seconds, so a PC
# that slept through midnight turns it over on waking), and at once on SIGHUP.
rotate=
trap 'rotate=1' HUP
day=$(date +%F)
while kill -0 "$squid_pid" 2>/dev/null && [ -z "$stopping" ]; do
  sleep "${EGRESS_TICK:-30}" &
  sleeper=$!
  # wait returns early on a signal, so the pod stops at once.
  wait "$sleeper" 2>/dev/null
  kill "$sleeper" 2>/dev/null
  [ "$(date +%F)" != "$day" ] && rotate=1
  if [ -n "$rotate" ] && [ -z "$stopping" ]; then
    $SQUID -k rotate -f "$CONF" && echo "homecloud egress: ledger turned over"
    rotate=
    day=$(date +%F)
  fi
done
wait "$squid_pid"
code=$?
[ -n "$stopping" ] && exit 0
echo "homecloud egress: Squid stopped (exit $code)" >&2
exit "$code"
