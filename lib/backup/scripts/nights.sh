#!/bin/sh
# Reads snapshot names (YYYY-MM-DDTHHMMSSZ, UTC) on stdin and prints each with the local night
# it belongs to: "NAME YYYY-MM-DD", the date in $TZ twelve hours before the snapshot. Retention
# counts nights, not UTC days: a 01:30 backup in Berlin is 00:30 UTC in winter but 23:30 UTC
# the day before in summer, and by UTC days the night after the clocks change would share a
# day with the one before and lose its snapshot. PHP (in the Nextcloud image) knows the zone
# rules; without it the names pass through alone and retention falls back to UTC days.
set -eu

if ! command -v php >/dev/null 2>&1; then
  cat
  exit 0
fi
php -r '
  $zone = new DateTimeZone(getenv("TZ") ?: "UTC");
  while (($line = fgets(STDIN)) !== false) {
    $name = trim($line);
    $t = DateTime::createFromFormat("Y-m-d\\THis\\Z", $name, new DateTimeZone("UTC"));
    if ($t === false) { echo $name, "\n"; continue; }
    echo $name, " ", $t->setTimezone($zone)->modify("-12 hours")->format("Y-m-d"), "\n";
  }'
