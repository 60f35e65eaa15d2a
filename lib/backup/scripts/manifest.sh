#!/bin/sh
# A snapshot's MANIFEST: one "<sha256>  <name>" line a file, in GNU sha256sum's format, so
# `sha256sum -c MANIFEST` checks a copy on any Linux PC. Names that would break a line (newline,
# carriage return, backslash) are escaped as GNU does it: the line starts with a backslash and
# the name has \\, \n and \r. Every other byte is kept as it is, whatever the locale: names
# reach this script NUL-separated (find -print0) and leave it as arguments, never through a
# tool that prints names for humans (rsync --out-format and ls escape them under a C locale).
#
#   manifest.sh keys            NUL-separated ./names on stdin -> one key a line (the name as
#                               the MANIFEST writes it, "./" removed), for set arithmetic
#   manifest.sh sum DIR         NUL-separated names relative to DIR on stdin -> MANIFEST lines
#   manifest.sh check DIR FILE  verifies FILE's lines against DIR; prints "<key>: FAILED" for
#                               each file that is missing or differs, and fails if any does
set -eu
set -o pipefail

nl='
'
cr=$(printf '\r')
# Absolute, as the workers it starts may run in another folder.
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
# Files checksummed at once (sum, check): busybox hashes on one core, and these read whole
# libraries. HASH_JOBS, default the CPUs the container sees, at most 4.
jobs=${HASH_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $jobs in '' | *[!0-9]*) jobs=1 ;; esac
[ "$jobs" -ge 1 ] || jobs=1
[ "$jobs" -le 4 ] || jobs=4

special() { case $1 in *"$nl"* | *\\* | *"$cr"*) return 0 ;; esac; return 1; }

# The GNU escaping of one name. A trailing "/" (no name contains one) keeps the final newlines
# of a name from being eaten by the command substitution.
escape() {
  e=$(printf '%s/' "$1" | sed "s/\\\\/\\\\\\\\/g; s/$cr/\\\\r/g" | awk 'NR > 1 { printf "%s", "\\n" } { printf "%s", $0 }')
  printf '%s' "${e%/}"
}
key() { if special "$1"; then escape "$1"; else printf '%s' "$1"; fi; }

case ${1:-} in
keys)
  xargs -0 -r sh "$self" _keys
  ;;
_keys)
  shift
  for p; do
    key "${p#./}"
    echo
  done
  ;;
sum)
  cd "${2:?usage: manifest.sh sum DIR}"
  if [ "$jobs" -le 1 ]; then
    xargs -0 -r sh "$self" _sum
    exit
  fi
  # HASH_JOBS batches at once (a first night checksums a whole library). Each batch writes a file
  # of its own: lines from several writers on one pipe could interleave mid-line. At least four
  # batches a worker, so a few large videos are shared out too, and at most 128 names a batch, so
  # thousands of small photos do not cost more in starting programs than in hashing.
  out="${TMPDIR:-/tmp}/.manifest-sum.$$"
  rm -rf "$out"
  mkdir "$out"
  trap 'rm -rf "$out"' EXIT
  cat > "$out/.names"
  count=$(tr -cd '\000' < "$out/.names" | wc -c)
  n=$(((count + jobs * 4 - 1) / (jobs * 4)))
  [ "$n" -ge 1 ] || n=1
  [ "$n" -le 128 ] || n=128
  SUM_OUT=$out xargs -0 -r -n "$n" -P "$jobs" sh "$self" _sum < "$out/.names"
  for f in "$out"/*; do
    [ ! -f "$f" ] || cat "$f"
  done
  ;;
_sum)
  # Plain names go to one sha256sum (fast); the few special ones are read through stdin, so
  # sha256sum never prints them.
  [ -z "${SUM_OUT:-}" ] || exec >> "$SUM_OUT/$$"
  shift
  # Usually every name is plain and already "./name" (find .): all of them to sha256sum at once,
  # without rebuilding the list below (which costs the square of a batch's length).
  all_plain=true
  for p; do
    case $p in ./*) ;; *) all_plain=false; break ;; esac
    if special "$p"; then all_plain=false; break; fi
  done
  if [ "$all_plain" = true ]; then
    [ "$#" -eq 0 ] || sha256sum "$@" | sed 's|^\([0-9a-f]*\)  \./|\1  |'
    exit
  fi
  n=$#
  while [ "$n" -gt 0 ]; do
    p=${1#./}
    shift
    n=$((n - 1))
    if special "$p"; then
      sum=$(sha256sum < "./$p" | cut -c1-64)
      printf '\\%s  %s\n' "$sum" "$(escape "$p")"
    else
      set -- "$@" "./$p"
    fi
  done
  [ "$#" -eq 0 ] || sha256sum "$@" | sed 's|^\([0-9a-f]*\)  \./|\1  |'
  ;;
check)
  dir=${2:?usage: manifest.sh check DIR MANIFEST}
  manifest=${3:?usage: manifest.sh check DIR MANIFEST}
  case $manifest in /*) ;; *) manifest="$PWD/$manifest" ;; esac
  cd "$dir"
  failed="${TMPDIR:-/tmp}/.manifest-failed.$$"
  plain="${TMPDIR:-/tmp}/.manifest-plain.$$"
  trap 'rm -f "$failed" "$plain" "$plain".*' EXIT
  : > "$failed"
  # Plain lines: sha256sum -c, which prints "name: FAILED" for a missing or changed file. This
  # reads a whole library (every night, the previous snapshot): $jobs checks each take every
  # n-th line.
  if grep -v '^\\' "$manifest" > "$plain"; then
    awk -v n="$jobs" -v part="$plain" '{ print > (part "." (NR % n)) }' "$plain"
    i=0
    while [ "$i" -lt "$jobs" ]; do
      if [ -f "$plain.$i" ]; then
        { { sha256sum -c "$plain.$i" 2>/dev/null || true; } | { grep -v ': OK$' || true; } > "$plain.$i.failed"; } &
      fi
      i=$((i + 1))
    done
    wait
    i=0
    while [ "$i" -lt "$jobs" ]; do
      [ ! -f "$plain.$i.failed" ] || cat "$plain.$i.failed" >> "$failed"
      i=$((i + 1))
    done
  fi
  # Escaped lines: decoded by printf %b (the key holds no backslash that is not \\, \n or \r).
  { grep '^\\' "$manifest" || true; } | while IFS= read -r line; do
    rest=${line#\\}
    want=${rest%%  *}
    k=${rest#*  }
    p=$(printf '%b/' "$k")
    p=${p%/}
    got=$(sha256sum 2>/dev/null < "./$p" | cut -c1-64) || got=''
    [ "$got" = "$want" ] || echo "$k: FAILED"
  done >> "$failed"
  cat "$failed"
  [ -s "$failed" ] && bad=1 || bad=0
  exit "$bad"
  ;;
*)
  echo "usage: manifest.sh keys | sum DIR | check DIR MANIFEST" >&2
  exit 2
  ;;
esac
