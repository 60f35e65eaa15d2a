<?php
// Stand-in for Nextcloud's code: reports what the front controller received, so the tests
// judge nginx's routing and buffering, not PHP. Reads the body as a stream, as Nextcloud does.
$in = fopen('php://input', 'rb');
$hash = hash_init('sha256');
$length = 0;
while (!feof($in)) {
    $chunk = fread($in, 1 << 20);
    if ($chunk === false) break;
    $length += strlen($chunk);
    hash_update($hash, $chunk);
}
header('Content-Type: application/json');
echo json_encode([
    'script' => $_SERVER['SCRIPT_NAME'] ?? null,
    'script_filename' => $_SERVER['SCRIPT_FILENAME'] ?? null,
    'path_info' => $_SERVER['PATH_INFO'] ?? null,
    'request_uri' => $_SERVER['REQUEST_URI'] ?? null,
    'method' => $_SERVER['REQUEST_METHOD'] ?? null,
    'body_length' => $length,
    'body_sha256' => hash_final($hash),
    'content_length' => $_SERVER['CONTENT_LENGTH'] ?? null,
    'front_controller_active' => $_SERVER['front_controller_active'] ?? null,
    'mod_headers' => $_SERVER['modHeadersAvailable'] ?? null,
    'upload_max_filesize' => ini_get('upload_max_filesize'),
    'post_max_size' => ini_get('post_max_size'),
    'headers' => function_exists('getallheaders') ? getallheaders() : [],
]);
