<?php
require __DIR__ . '/../lib/report.php';
