<?php
// Makes previews the way Nextcloud does for a new photo (preview-lib.php), timing each step.
//
// usage: php make-previews.php OUT_DIR MAX QUALITY SIZES PHOTO...
//   SIZES: comma-separated "256s" (a square crop) or "1024" (fit in a square), made from the max.
// Prints one JSON line per photo: {"photo", "seconds": {"max", "<size>"...}, "bytes": {...}}.
declare(strict_types=1);
require __DIR__ . '/preview-lib.php';

[$_, $out, $max, $quality, $sizes] = array_slice($argv, 0, 5);
$photos = array_slice($argv, 5);
$max = (int) $max;
$quality = (int) $quality;
$sizes = array_filter(explode(',', $sizes));

foreach ($photos as $photo) {
  $name = basename($photo);
  $t = hrtime(true);
  $bytes = ['max' => makeMax($photo, "$out/$name-max.jpg", $max, $quality)];
  $seconds = ['max' => (hrtime(true) - $t) / 1e9];
  foreach ($sizes as $size) {
    $t = hrtime(true);
    $bytes[$size] = makeSize("$out/$name-max.jpg", $size, "$out/$name-$size.jpg", $quality);
    $seconds[$size] = (hrtime(true) - $t) / 1e9;
  }
  echo json_encode(['photo' => $name, 'seconds' => $seconds, 'bytes' => $bytes]), "\n";
}
