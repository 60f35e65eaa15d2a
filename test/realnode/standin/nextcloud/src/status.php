<?php
// GET /status.php as Nextcloud answers it: JSON, and 400 for a host that is not trusted.
require __DIR__ . '/lib/standin.php';
$config = load_config();
$host = strtolower(preg_replace('/:\d+$/', '', $_SERVER['HTTP_HOST'] ?? ''));
if (($config['installed'] ?? false) && !in_array($host, array_map('strtolower', $config['trusted_domains'] ?? []), true)) {
  http_response_code(400);
  echo "Access through untrusted domain\n";
  exit;
}
header('Content-Type: application/json');
echo json_encode(status($config));
