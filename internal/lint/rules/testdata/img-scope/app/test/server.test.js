// tests run against a local database, never in the image
process.env.CLOUDRON_MYSQL_URL = 'mysql://root:root@localhost/test';
