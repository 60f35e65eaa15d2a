<?php
/*
 * Issues the home cloud's server certificate from the home CA, or keeps the current one while it
 * is good. Run by the Nextcloud pod's init container (so nginx starts with a certificate) and
 * every few hours by its `certificates` container (so it is renewed with nobody running a
 * command). PHP because the Nextcloud image has it with OpenSSL, and nothing else that signs.
 *
 * Environment:
 *   HOMECLOUD_TLS_DNS   host names, space-separated (the trusted domains and localhost)
 *   HOMECLOUD_TLS_IP    IP addresses, space-separated
 *   CA_DIR              the home CA (ca.crt, ca.key), from its Secret      default /homecloud-ca
 *   TLS_DIR             where tls.pem (key and certificate, one file) goes  default /tls
 *   VALID_DAYS          lifetime of a new certificate                       default 90
 *   RENEW_DAYS          renew when fewer days than this remain              default 45
 *   HOMECLOUD_NOW       the time to decide at, in Unix seconds (tests move the clock)
 *
 * The certificate follows Apple's rules for TLS servers (support.apple.com/103769): names in
 * subjectAltName, serverAuth EKU, SHA-256, P-256 key, well under 825 days.
 * Exit 0: a good certificate is in place (kept or new). Exit 1: it could not be (says why).
 */

function fail(string $why): void {
    fwrite(STDERR, "homecloud: cannot issue the server certificate: $why\n");
    exit(1);
}

function words(string $name): array {
    return preg_split('/\s+/', trim((string) getenv($name)), -1, PREG_SPLIT_NO_EMPTY);
}

/** Why a new certificate is needed, or null to keep the current one. */
function reason_to_issue(string $file, $caCert, array $dns, array $ip, int $now, int $renewDays): ?string {
    if (!is_file($file)) return 'there is none yet';
    $pem = (string) @file_get_contents($file);
    $cert = @openssl_x509_read($pem);
    $key = @openssl_pkey_get_private($pem);
    if ($cert === false || $key === false || !openssl_x509_check_private_key($cert, $key)) return 'the current one is damaged';
    if (openssl_x509_verify($cert, openssl_pkey_get_public($caCert)) !== 1) return 'the home CA changed';
    $info = openssl_x509_parse($cert);
    $have = array_map('strtolower', preg_split('/,\s*/', $info['extensions']['subjectAltName'] ?? ''));
    $want = array_merge(array_map(fn ($n) => 'dns:' . strtolower($n), $dns), array_map(fn ($a) => 'ip address:' . strtolower(inet_ntop(inet_pton($a))), $ip));
    $have = array_map(fn ($n) => str_starts_with($n, 'ip address:') ? 'ip address:' . strtolower(inet_ntop(inet_pton(substr($n, 11)))) : $n, $have);
    sort($have);
    sort($want);
    if ($have !== $want) return 'the names changed';
    if ($info['validFrom_time_t'] > $now) return 'the current one is not valid yet (the clock went back)';
    if ($info['validTo_time_t'] - $now < $renewDays * 86400) return 'the current one expires on ' . gmdate('Y-m-d', $info['validTo_time_t']);
    return null;
}

$caDir = getenv('CA_DIR') ?: '/homecloud-ca';
$tlsDir = getenv('TLS_DIR') ?: '/tls';
$validDays = (int) (getenv('VALID_DAYS') ?: 90);
$renewDays = (int) (getenv('RENEW_DAYS') ?: 45);
$now = (int) (getenv('HOMECLOUD_NOW') ?: time());
$dns = words('HOMECLOUD_TLS_DNS');
$ip = words('HOMECLOUD_TLS_IP');

if (!$dns && !$ip) fail('HOMECLOUD_TLS_DNS and HOMECLOUD_TLS_IP are both empty');
// The names go into an OpenSSL config below: allow only what host names and addresses contain.
foreach ($dns as $n) if (!preg_match('/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/', $n)) fail("\"$n\" is not a host name");
foreach ($ip as $a) if (@inet_pton($a) === false) fail("\"$a\" is not an IP address");
if ($renewDays >= $validDays) fail("RENEW_DAYS ($renewDays) must be less than VALID_DAYS ($validDays)");

$caCert = @openssl_x509_read((string) @file_get_contents("$caDir/ca.crt"));
$caKey = @openssl_pkey_get_private((string) @file_get_contents("$caDir/ca.key"));
if ($caCert === false || $caKey === false) fail("the home CA in $caDir is missing or unreadable (ca.crt, ca.key)");
if (!openssl_x509_check_private_key($caCert, $caKey)) fail("the home CA's key in $caDir does not belong to its certificate");

$file = "$tlsDir/tls.pem";
$why = reason_to_issue($file, $caCert, $dns, $ip, $now, $renewDays);
if ($why === null) {
    $to = openssl_x509_parse(openssl_x509_read(file_get_contents($file)))['validTo_time_t'];
    printf("homecloud: server certificate valid until %s; renewed from %s\n", gmdate('Y-m-d', $to), gmdate('Y-m-d', $to - $renewDays * 86400));
    exit(0);
}

$names = array_merge(array_map(fn ($n) => "DNS:$n", $dns), array_map(fn ($a) => "IP:$a", $ip));
$config = tempnam(sys_get_temp_dir(), 'homecloud-openssl');
file_put_contents($config, implode("\n", [
    '[req]', 'distinguished_name = dn',
    // PHP checks a key size even for EC keys, and reads it from here (the curve decides the real size).
    'default_bits = 2048', '[dn]',
    '[leaf]',
    'basicConstraints = critical, CA:FALSE',
    // ECDSA keys sign the handshake; they never encipher keys.
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth',
    'subjectAltName = ' . implode(', ', $names),
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
]));
$opts = ['config' => $config, 'digest_alg' => 'sha256', 'x509_extensions' => 'leaf'];
$key = openssl_pkey_new($opts + ['private_key_type' => OPENSSL_KEYTYPE_EC, 'curve_name' => 'prime256v1']);
$csr = $key === false ? false : openssl_csr_new(['commonName' => $dns[0] ?? $ip[0], 'organizationName' => 'homecloud'], $key, $opts);
$cert = $csr === false ? false : openssl_csr_sign($csr, $caCert, $caKey, $validDays, $opts, random_int(1, PHP_INT_MAX));
unlink($config);
if ($cert === false) {
    $errors = [];
    while (($e = openssl_error_string()) !== false) $errors[] = $e;
    fail('OpenSSL refused: ' . implode('; ', $errors));
}
openssl_pkey_export($key, $keyPem);
openssl_x509_export($cert, $certPem);

// One file, replaced whole by a rename: nginx (reloaded by nginx-run.sh) never sees a new
// certificate with the old key.
umask(077);
$tmp = "$file.tmp";
if (file_put_contents($tmp, $keyPem . $certPem) === false || !rename($tmp, $file)) fail("cannot write $file");
$to = openssl_x509_parse($cert)['validTo_time_t'];
printf("homecloud: issued a server certificate for %s (valid until %s), because %s\n", implode(', ', array_merge($dns, $ip)), gmdate('Y-m-d', $to), $why);
