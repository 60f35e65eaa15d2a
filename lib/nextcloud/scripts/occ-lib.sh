# Shared by the Nextcloud hooks that write config.php (sourced, never run by the entrypoint: it
# sits beside the hook folders, not in one). Needs $OCC.

# Sets a list in config.php to exactly these values: set_list KEY VALUE...
set_list() {
  key=$1
  shift
  i=0
  for value in "$@"; do
    $OCC config:system:set "$key" "$i" --value="$value" >/dev/null
    i=$((i + 1))
  done
  # Remove entries left over from a longer earlier list.
  while $OCC config:system:get "$key" "$i" >/dev/null 2>&1; do
    $OCC config:system:delete "$key" "$i" >/dev/null
    i=$((i + 1))
  done
}
