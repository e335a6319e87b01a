// the package sets this name itself: not a platform variable
process.env.CLOUDRON_APP_WORKER_MODE = 'web';
const mode = process.env.CLOUDRON_APP_WORKER_MODE;
const ldap = process.env.LDAP_URL || '';
