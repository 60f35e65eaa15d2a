<?php
// A stand-in for Nextcloud's `occ` config commands that keeps a real config.php, as Nextcloud's
// own does (a PHP file holding $CONFIG, written with var_export), and app config in a JSON file
// beside it. It answers: config:system:get|set|delete KEY [INDEX] [--type=integer] [--value=V],
// config:app:set APP KEY --value=V, app:list --output=json and app:disable APP (apps enabled at
// first: OCC_ENABLED_APPS, space-separated); every other command succeeds doing nothing. Each call is
// appended to occ.calls. The hook tests then read config.php with PHP's include, as Nextcloud does.
declare(strict_types=1);

$dir = getenv('OCC_STATE') ?: __DIR__;
$configFile = "$dir/config.php";
$appFile = "$dir/appconfig.json";
file_put_contents("$dir/occ.calls", implode(' ', array_slice($argv, 1)) . "\n", FILE_APPEND);

$CONFIG = [];
if (is_file($configFile)) include $configFile;
$apps = is_file($appFile) ? json_decode((string) file_get_contents($appFile), true) : [];

$args = array_slice($argv, 1);
$options = [];
$words = [];
foreach ($args as $a) {
  if (preg_match('/^--(type|value)=(.*)$/s', $a, $m)) $options[$m[1]] = $m[2];
  else $words[] = $a;
}
$command = $words[0] ?? '';
$value = $options['value'] ?? null;
if (($options['type'] ?? '') === 'integer') $value = (int) $value;
if (($options['type'] ?? '') === 'boolean') $value = $value === 'true';
$enabled = array_values(array_filter(explode(' ', (string) getenv('OCC_ENABLED_APPS')),
  fn($a) => $a !== '' && ($apps[$a]['enabled'] ?? 'yes') === 'yes'));

switch ($command) {
  case 'config:system:get':
    $v = $CONFIG[$words[1]] ?? null;
    if (isset($words[2])) $v = is_array($v) ? ($v[(int) $words[2]] ?? null) : null;
    if ($v === null) exit(1);
    echo is_array($v) ? implode("\n", $v) : $v, "\n";
    exit(0);
  case 'config:system:set':
    if (isset($words[2])) $CONFIG[$words[1]][(int) $words[2]] = $value;
    else $CONFIG[$words[1]] = $value;
    break;
  case 'config:system:delete':
    if (isset($words[2])) unset($CONFIG[$words[1]][(int) $words[2]]);
    else unset($CONFIG[$words[1]]);
    break;
  case 'config:app:set':
    $apps[$words[1]][$words[2]] = $value;
    file_put_contents($appFile, json_encode($apps, JSON_PRETTY_PRINT));
    exit(0);
  case 'app:list':
    echo json_encode(['enabled' => (object) array_fill_keys($enabled, '1.0.0'), 'disabled' => (object) []]), "\n";
    exit(0);
  case 'app:disable':
    if (!in_array($words[1] ?? '', $enabled, true)) { fwrite(STDERR, "No such app enabled: {$words[1]}\n"); exit(1); }
    $apps[$words[1]]['enabled'] = 'no';
    file_put_contents($appFile, json_encode($apps, JSON_PRETTY_PRINT));
    exit(0);
  default:
    exit(0);
}
file_put_contents($configFile, "<?php\n\$CONFIG = " . var_export($CONFIG, true) . ";\n");
