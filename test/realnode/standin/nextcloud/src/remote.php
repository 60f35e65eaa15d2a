<?php
// WebDAV and the other remote.php routes: the stand-in answers as its other pages do.
require __DIR__ . '/index.php';
