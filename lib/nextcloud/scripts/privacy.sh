#!/bin/sh
# Nextcloud entrypoint hook, run as www-data: after the first install (before the apps are
# installed, so their download already goes through the egress point) and on every start.
# The privacy baseline (lib/privacy/privacy-settings.ts): Nextcloud contacts only what the family
# chose, and every request it makes goes through the egress point, which admits nothing else.
set -eu

OCC=${OCC:-php /var/www/html/occ}
# shellcheck source=occ-lib.sh
. "${HOMECLOUD_OCC_LIB:-/docker-entrypoint-hooks.d/occ-lib.sh}"

# Every outbound request of Nextcloud and its apps (its HTTP client) through the egress point;
# its own addresses (its setup checks, Client Push) stay inside the pod.
$OCC config:system:set proxy --value="${HOMECLOUD_PROXY:?HOMECLOUD_PROXY is not set}" >/dev/null
# shellcheck disable=SC2086 # one name per word
set_list proxyexclude ${HOMECLOUD_PROXY_EXCLUDE:-localhost 127.0.0.1}

# No update check: it sends the install's exact creation time (which identifies it), its version
# and user count to updates.nextcloud.com, and homecloud updates Nextcloud by image anyway.
$OCC config:system:set updatechecker --type=boolean --value=false >/dev/null
# The internet check asks the one host the family needs anyway (the app store), instead of
# nextcloud.com, www.eff.org and edri.org.
# shellcheck disable=SC2086 # one host per word
set_list connectivity_check_domains ${HOMECLOUD_CONNECTIVITY_CHECK:-apps.nextcloud.com}
# No lookup server: nobody's name, mail or cloud address is published to lookup.nextcloud.com.
$OCC config:system:set lookup_server --value="" >/dev/null

# The breached-password check (api.pwnedpasswords.com) and Photos' list of towns
# (download.nextcloud.com): the family's choices, one setting each (privacy.*).
$OCC config:app:set password_policy enforceHaveIBeenPwned --value="${HOMECLOUD_BREACH_CHECK:-0}" >/dev/null
if [ "${HOMECLOUD_PHOTO_PLACES:-0}" = 1 ]; then places_off=0; else places_off=1; fi
$OCC config:app:set photos disable_places --value="$places_off" >/dev/null

# Apps that contact someone on their own and that a family does not need: the weather status
# (the address typed, or the family's coordinates, to nominatim.openstreetmap.org and api.met.no),
# the announcements feed (pushfeed.nextcloud.com) and the usage survey. Disabled on every start:
# the egress point refuses their servers anyway, so enabled they would only fail and log.
enabled=$($OCC app:list --output=json 2>/dev/null | php -r '$l = json_decode(stream_get_contents(STDIN), true);
  echo implode(" ", array_keys(is_array($l["enabled"] ?? null) ? $l["enabled"] : []));') || enabled=''
for app in ${HOMECLOUD_QUIET_APPS:-}; do
  case " $enabled " in
    *" $app "*)
      if $OCC app:disable "$app" >/dev/null; then echo "homecloud: disabled the $app app (it contacts servers outside the home)"
      else echo "homecloud: could not disable the $app app; will try again at the next start" >&2; fi ;;
  esac
done

# The apps are installed next, through the egress point: on a first install it may start a little
# after Nextcloud, so wait for it (HOMECLOUD_PROXY_WAIT seconds at most) rather than fail them all.
if php -r '$t = time() + (int) $argv[3];
  do { $s = @fsockopen($argv[1], (int) $argv[2], $e, $m, 2); if ($s) exit(0); sleep(1); } while (time() < $t);
  exit(1);' "${HOMECLOUD_PROXY%:*}" "${HOMECLOUD_PROXY##*:}" "${HOMECLOUD_PROXY_WAIT:-120}"; then
  echo "homecloud: outbound requests go through $HOMECLOUD_PROXY (only the destinations the settings allow)"
else
  echo "homecloud: the egress point ($HOMECLOUD_PROXY) does not answer yet; apps that could not be installed now will be at a later start" >&2
fi
