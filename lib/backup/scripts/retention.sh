#!/bin/sh
# Which snapshots retention removes. Reads snapshot names (YYYY-MM-DDTHHMMSSZ, UTC) on stdin,
# each optionally followed by the local night it belongs to (YYYY-MM-DD, from nights.sh), and
# prints the names to delete. Keeps the newest snapshot of each of the newest KEEP_DAILY nights,
# KEEP_WEEKLY ISO weeks and KEEP_MONTHLY months that have one, and always the newest snapshot.
# Nights without a snapshot (the PC was off) do not use up the allowance. Without a night, the
# snapshot's UTC date counts.
# Pure date arithmetic in awk: no GNU date needed, so it runs under busybox.
set -eu

sort -r | awk -v daily="${KEEP_DAILY:-7}" -v weekly="${KEEP_WEEKLY:-4}" -v monthly="${KEEP_MONTHLY:-6}" '
  # Days since 1970-01-01 for a civil date (Howard Hinnant, days_from_civil).
  function days(y, m, d,   era, yoe, doy, doe) {
    y -= (m <= 2)
    era = int((y >= 0 ? y : y - 399) / 400)
    yoe = y - era * 400
    doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    return era * 146097 + doe - 719468
  }
  $1 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9]+Z$/ {
    n++
    name[n] = $1
    date = ($2 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/) ? $2 : $1
    y = substr(date, 1, 4) + 0; m = substr(date, 6, 2) + 0; d = substr(date, 9, 2) + 0
    dn = days(y, m, d)
    dayKey[n] = dn
    # 1970-01-01 was a Thursday: shift so weeks start on Monday, as ISO weeks do.
    weekKey[n] = int((dn + 3) / 7)
    monthKey[n] = y * 12 + m
  }
  END {
    if (n == 0) exit
    keep[1] = 1
    for (i = 1; i <= n; i++) {
      if (!(dayKey[i] in seenD) && nd < daily) { seenD[dayKey[i]] = 1; nd++; keep[i] = 1 }
      if (!(weekKey[i] in seenW) && nw < weekly) { seenW[weekKey[i]] = 1; nw++; keep[i] = 1 }
      if (!(monthKey[i] in seenM) && nm < monthly) { seenM[monthKey[i]] = 1; nm++; keep[i] = 1 }
      seenD[dayKey[i]] = 1; seenW[weekKey[i]] = 1; seenM[monthKey[i]] = 1
    }
    for (i = 1; i <= n; i++) if (!(i in keep)) print name[i]
  }'
