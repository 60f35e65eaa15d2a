<?php
// How many photos have no preview yet: printed as one number, for the nightly thumbnail job's
// summary (and so `npm run status`). Reads Nextcloud's database directly with the credentials in
// config.php, read-only: one count, no Nextcloud bootstrap (which would cost more than the count).
//
// A photo is an image file in someone's files (home storages, under files/, not the trash or
// versions) of a type the home cloud makes previews of; it waits while it has no row in
// Nextcloud's previews table (Nextcloud 33 and later keep one row per preview there).
//
// usage: php previews-waiting.php /var/www/html/config/config.php
declare(strict_types=1);

$CONFIG = [];
require $argv[1] ?? '/var/www/html/config/config.php';
if (($CONFIG['dbtype'] ?? '') !== 'pgsql') {
  fwrite(STDERR, "only PostgreSQL is supported (dbtype is " . ($CONFIG['dbtype'] ?? 'unset') . ")\n");
  exit(2);
}
// dbhost is "host", "host:port" or "/socket/dir".
[$host, $port] = array_pad(explode(':', (string) $CONFIG['dbhost'], 2), 2, '5432');
$pdo = new PDO(
  sprintf('pgsql:host=%s;port=%s;dbname=%s', $host, $port, $CONFIG['dbname']),
  (string) $CONFIG['dbuser'],
  (string) $CONFIG['dbpassword'],
  [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 10],
);
$p = preg_replace('/[^a-z0-9_]/i', '', (string) ($CONFIG['dbtableprefix'] ?? 'oc_'));
// The types of lib/photos/previews.ts's providers that photos come in.
$types = ['image/jpeg', 'image/png', 'image/heic', 'image/heif', 'image/webp', 'image/gif', 'image/bmp'];
$marks = implode(',', array_fill(0, count($types), '?'));
$sql = "SELECT count(*) FROM {$p}filecache f
  JOIN {$p}mimetypes m ON m.id = f.mimetype
  JOIN {$p}storages s ON s.numeric_id = f.storage
  WHERE s.id LIKE 'home::%' AND f.path LIKE 'files/%' AND m.mimetype IN ($marks)
    AND NOT EXISTS (SELECT 1 FROM {$p}previews v WHERE v.file_id = f.fileid)";
$q = $pdo->prepare($sql);
$q->execute($types);
echo (int) $q->fetchColumn(), "\n";
