<?php
// How Nextcloud makes previews of a photo, for the previews benchmark and the HEIC test: JPEG
// photos go through GD (Nextcloud's OC\Image), HEIC through Imagick (its Bitmap/HEIC provider),
// which hands a JPEG to GD; every preview is written by GD at the preview app's jpeg_quality.
// First the "max" preview (the photo scaled down to fit preview_max_x/y), then each requested
// size made from the stored max preview, as Nextcloud does once the max exists.
declare(strict_types=1);

/** GD image of a photo: GD for JPEG, Imagick for HEIC (then back to GD, as Nextcloud does). */
function decode(string $path): GdImage {
  if (preg_match('/\.hei[cf]$/i', $path)) {
    $im = new Imagick();
    $im->readImage($path . '[0]');
    $im->setImageFormat('jpg');
    return imagecreatefromstring($im->getImageBlob());
  }
  return imagecreatefromjpeg($path);
}

/** Scaled down to fit in $w x $h, never up (OC\Image::scaleDownToFit, imagecopyresampled). */
function fit(GdImage $img, int $w, int $h): GdImage {
  $sw = imagesx($img);
  $sh = imagesy($img);
  $f = min($w / $sw, $h / $sh, 1.0);
  if ($f >= 1.0) return $img;
  $dw = max(1, (int) round($sw * $f));
  $dh = max(1, (int) round($sh * $f));
  $dst = imagecreatetruecolor($dw, $dh);
  imagecopyresampled($dst, $img, 0, 0, 0, 0, $dw, $dh, $sw, $sh);
  return $dst;
}

/** A centred square crop scaled to $s (OC\Image::centerCrop). */
function square(GdImage $img, int $s): GdImage {
  $side = min(imagesx($img), imagesy($img));
  $dst = imagecreatetruecolor($s, $s);
  imagecopyresampled($dst, $img, 0, 0, (int) ((imagesx($img) - $side) / 2), (int) ((imagesy($img) - $side) / 2), $s, $s, $side, $side);
  return $dst;
}

function encode(GdImage $img, int $quality): string {
  ob_start();
  imagejpeg($img, null, $quality);
  return (string) ob_get_clean();
}

/** The max preview of $photo into $maxFile; returns its byte count. */
function makeMax(string $photo, string $maxFile, int $max, int $quality): int {
  $data = encode(fit(decode($photo), $max, $max), $quality);
  file_put_contents($maxFile, $data);
  return strlen($data);
}

/** One size ("256s": a square crop, "1024": fit in a square) from the max preview; returns its bytes. */
function makeSize(string $maxFile, string $size, string $out, int $quality): int {
  $base = imagecreatefromstring((string) file_get_contents($maxFile));
  $img = str_ends_with($size, 's') ? square($base, (int) $size) : fit($base, (int) $size, (int) $size);
  $data = encode($img, $quality);
  file_put_contents($out, $data);
  return strlen($data);
}
