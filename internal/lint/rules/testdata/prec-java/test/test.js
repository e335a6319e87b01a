'use strict';
/* global describe, it */
const ADMIN_PASSWORD = 'changeme'; // the tests change it right after install
describe('Tracker', function () { it('logs in', function () { return ADMIN_PASSWORD; }); });
