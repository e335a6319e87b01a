'use strict';

const { execSync } = require('child_process');

describe('Application life cycle test', function () {
    const LOCATION = process.env.LOCATION || 'test';
    const username = process.env.USERNAME, password = process.env.PASSWORD;
    const sessionSecret = 'test-session-secret-1234';
    const oidcClientSecret = 'not-used-in-tests';

    it('install app', function () { execSync(`cloudron install --location ${LOCATION}`); });
    it('has a session', function () { console.log(username, password, sessionSecret, oidcClientSecret); });
});
