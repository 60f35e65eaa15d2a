<?php
// Every other page: enough for a browser, a probe or a client to see the server answer.
require __DIR__ . '/lib/standin.php';
$config = load_config();
if ($config['maintenance'] ?? false) { http_response_code(503); echo "Nextcloud is in maintenance mode\n"; exit; }
header('Content-Type: text/html; charset=utf-8');
echo "<!DOCTYPE html><title>Nextcloud</title><p>homecloud stand-in Nextcloud " . htmlspecialchars(status($config)['versionstring']) . "</p>\n";
