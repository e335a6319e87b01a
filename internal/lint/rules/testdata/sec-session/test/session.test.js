const session = require('express-session');
const app = require('express')();
app.use(session({ secret: 'test-secret-for-tests', resave: false }));
