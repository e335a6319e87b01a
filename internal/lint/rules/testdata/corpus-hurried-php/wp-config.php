<?php
// Everything is in /app/data/wp-config.php, written on first start.
define('WP_HOME', getenv('CLOUDRON_APP_ORIGIN'));
define('DB_HOST', getenv('CLOUDRON_MYSQL_HOSTNAME'));
require_once '/app/data/wp-config.php';
