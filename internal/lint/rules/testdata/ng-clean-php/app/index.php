<?php
$db = getenv("CLOUDRON_MYSQL_URL");
echo "notes";
