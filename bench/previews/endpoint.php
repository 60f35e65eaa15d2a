<?php
// The previews benchmark's stand-in for Nextcloud's preview route (/index.php/core/preview),
// served by our nginx.conf and php-fpm pool: answers ?file=NAME with its 256 px thumbnail, from
// the cache when it was made ahead of time, else made now as Nextcloud makes it on demand (the
// max preview, then the thumbnail from it). Its settings come from preview-bench.json beside it.
declare(strict_types=1);
require __DIR__ . '/preview-lib.php';

$c = json_decode((string) file_get_contents(__DIR__ . '/preview-bench.json'), true);
$name = basename((string) ($_GET['file'] ?? ''));
$photo = "{$c['photos']}/" . ($c['originals'][$name] ?? '');
if (!isset($c['originals'][$name]) || !is_file($photo)) {
  http_response_code(404);
  exit;
}
$thumb = "{$c['cache']}/$name-256s.jpg";
if (!is_file($thumb)) {
  $max = "{$c['cache']}/$name-max.jpg";
  if (!is_file($max)) makeMax($photo, $max, (int) $c['max'], (int) $c['quality']);
  makeSize($max, '256s', $thumb, (int) $c['quality']);
}
header('Content-Type: image/jpeg');
readfile($thumb);
