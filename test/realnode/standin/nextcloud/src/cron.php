<?php
// Background jobs, as the owner of config.php only; records the run in the database (the admin
// page's "last job ran").
require __DIR__ . '/lib/standin.php';
$config = load_config();
if (!($config['installed'] ?? false) || ($config['maintenance'] ?? false)) { exit(0); }
if (function_exists('posix_getuid') && posix_getuid() !== fileowner(config_file())) {
  fwrite(STDERR, "Console has to be executed with the user that owns the file config/config.php\n");
  exit(1);
}
app_config(db($config), 'core', 'lastcron', (string) time());
