<?php
// GET …?stream=BYTES stands in for a WebDAV download: Nextcloud streams a file through PHP in
// chunks, so the worker is busy for as long as nginx takes the bytes. Anything else reports.
if (($_SERVER['REQUEST_METHOD'] ?? '') === 'GET' && isset($_GET['stream'])) {
    $left = (int) $_GET['stream'];
    header('Content-Type: application/octet-stream');
    header('Content-Length: ' . $left);
    $chunk = str_repeat('x', 1 << 16);
    while ($left > 0 && !connection_aborted()) {
        $n = min($left, strlen($chunk));
        echo $n === strlen($chunk) ? $chunk : substr($chunk, 0, $n);
        flush();
        $left -= $n;
    }
    exit;
}
require __DIR__ . '/lib/report.php';
