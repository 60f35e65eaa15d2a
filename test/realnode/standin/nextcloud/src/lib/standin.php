<?php
// The stand-in Nextcloud's shared code: config.php as Nextcloud writes it, the database through
// PDO (PostgreSQL, as homecloud configures), the version this image carries. Only what homecloud's
// scripts, probes and client call is here; see test/realnode/README.md.
declare(strict_types=1);

const WEBROOT = '/var/www/html';

function config_file(): string { return WEBROOT . '/config/config.php'; }

function load_config(): array {
  $CONFIG = [];
  if (is_file(config_file())) { include config_file(); }
  return $CONFIG;
}

/** Written whole and renamed into place, so a reader never sees half a file. */
function save_config(array $config): void {
  $tmp = config_file() . '.tmp' . getmypid();
  file_put_contents($tmp, "<?php\n\$CONFIG = " . var_export($config, true) . ";\n");
  chmod($tmp, 0640);
  rename($tmp, config_file());
  if (function_exists('opcache_invalidate')) { opcache_invalidate(config_file(), true); }
}

function image_version(): array {
  $OC_Version = [0, 0, 0, 0];
  include '/usr/src/nextcloud/version.php';
  return $OC_Version;
}

function data_version(): array {
  $OC_Version = [0, 0, 0, 0];
  if (is_file(WEBROOT . '/version.php')) { include WEBROOT . '/version.php'; }
  return $OC_Version;
}

function db(array $config): PDO {
  [$host, $port] = array_pad(explode(':', (string) ($config['dbhost'] ?? 'localhost'), 2), 2, '5432');
  $pdo = new PDO("pgsql:host=$host;port=$port;dbname={$config['dbname']}", $config['dbuser'], $config['dbpassword'],
    [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 10]);
  return $pdo;
}

function app_config(PDO $db, string $app, string $key, string $value): void {
  $db->prepare('INSERT INTO oc_appconfig (appid, configkey, configvalue) VALUES (?, ?, ?)
    ON CONFLICT (appid, configkey) DO UPDATE SET configvalue = EXCLUDED.configvalue')->execute([$app, $key, $value]);
}

function status(array $config): array {
  $v = data_version();
  return [
    'installed' => (bool) ($config['installed'] ?? false),
    'version' => implode('.', $v),
    'versionstring' => "{$v[0]}.{$v[1]}.{$v[2]}",
    'edition' => '',
    'maintenance' => (bool) ($config['maintenance'] ?? false),
    'needsDbUpgrade' => ($config['installed'] ?? false) && ($config['version'] ?? '') !== implode('.', $v),
    'productname' => 'Nextcloud',
    'extendedSupport' => false,
  ];
}
