'use strict';

const fs = require('fs');
const session = require('express-session');
const RedisStore = require('connect-redis').default;

// The secret is generated on first start into /app/data (start.sh).
module.exports = function (app, redisClient) {
    app.use(session({
        store: new RedisStore({ client: redisClient }),
        secret: process.env.SESSION_SECRET || fs.readFileSync('/app/data/.session_secret', 'utf8').trim(),
        name: 'boards.sid',
        resave: false,
        saveUninitialized: false,
        cookie: { secure: true, sameSite: 'lax' }
    }));
};
