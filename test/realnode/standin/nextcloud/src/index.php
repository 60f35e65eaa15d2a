<?php
// Every other page: enough for a browser, a probe or a client to see the server answer.
require __DIR__ . '/lib/standin.php';
$config = load_config();
if ($config['maintenance'] ?? false) { http_response_code(503); echo "Nextcloud is in maintenance mode\n"; exit; }
// Stands in for a request that needs memory (a preview of a big photo, an app's update): the
// fault tests ask for ?mib=N held for ?hold=S seconds to see what PHP, the kernel and the
// kubelet do when workers outgrow their limits.
if (($_SERVER['PATH_INFO'] ?? '') === '/apps/standin/allocate') {
  $mib = (int) ($_GET['mib'] ?? 0);
  $held = str_repeat('x', $mib << 20); // written, so resident
  sleep((int) ($_GET['hold'] ?? 0));
  header('Content-Type: text/plain');
  echo 'allocated ' . (strlen($held) >> 20) . " MiB\n";
  exit;
}
header('Content-Type: text/html; charset=utf-8');
echo "<!DOCTYPE html><title>Nextcloud</title><p>homecloud stand-in Nextcloud " . htmlspecialchars(status($config)['versionstring']) . "</p>\n";
