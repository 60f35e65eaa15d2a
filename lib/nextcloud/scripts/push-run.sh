#!/bin/sh
# Client Push (the notify_push app's own server) beside php-fpm in the Nextcloud pod, as www-data.
# Sync apps keep a WebSocket open to it (nginx's /push/) and hear of a change at once, instead of
# asking Nextcloud every 30 seconds. The server is the binary inside the app, so the two always
# have the same version: this loop waits for the app (the start-up hooks install it), starts the
# binary for this machine, starts it again when an app update replaces it or when it stops, and
# ends it when Kubernetes stops the pod.
set -u

webroot=${NEXTCLOUD_WEBROOT:-/var/www/html}
poll=${POLL_SECONDS:-30}
config="$webroot/config/config.php"
# notify_push ships one static binary per architecture: bin/x86_64, bin/aarch64, bin/armv7.
arch=${PUSH_ARCH:-$(uname -m)}
bin="$webroot/custom_apps/notify_push/bin/$arch/notify_push"
# Run from a copy: the app's file may lack its execute bit (the app is unpacked by PHP), and an
# app update may replace it while it runs.
copy="${TMPDIR:-/tmp}/notify_push"

pid=''
running=''
log() { echo "homecloud push: $*"; }
stop() {
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=''
}
trap 'stop; log "stopping"; exit 0' TERM INT QUIT

said=''
while :; do
  if [ -f "$bin" ] && grep -qs "'installed' => true" "$config"; then
    # The binary's change time and size: an app update writes a new one.
    version=$(stat -c '%Y %s' "$bin")
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      log "notify_push stopped (exit code $?); starting it again"
      pid=''
    fi
    if [ -n "$pid" ] && [ "$version" != "$running" ]; then
      log "the notify_push app was updated; restarting its server"
      stop
    fi
    if [ -z "$pid" ]; then
      cp "$bin" "$copy.new" && chmod 755 "$copy.new" && mv "$copy.new" "$copy" || log "could not copy $bin to $copy"
      "$copy" "$config" &
      pid=$!
      running=$version
      log "started notify_push (pid $pid) on port ${PORT:-7867}"
    fi
    said=''
  elif [ -z "$said" ]; then
    log "waiting for the notify_push app (Nextcloud's start-up installs it; offline, at a later start)"
    said=yes
  fi
  sleep "$poll" &
  wait $!
done
