const express = require('express');
const session = require('express-session');
const cookieSession = require('cookie-session');
const cookieParser = require('cookie-parser');

const app = express();
app.use(session({ secret: 'keyboard cat', resave: false, saveUninitialized: false }));
app.use(session({ secret: process.env.SESSION_SECRET, resave: false }));
app.use(cookieSession({ name: 'sess', keys: ['k3y-one-abc', 'k3y-two-def'] }));
app.use(cookieSession({ name: 'sess', keys: [process.env.COOKIE_KEY] }));
app.use(cookieParser('s1gn3d-c00kies'));
app.use(cookieParser(process.env.COOKIE_SECRET));
const labels = { secret: 'Secret', password: 'Passwort' };
const oidc = { clientId: 'boards', clientSecret: 'V3ryS3cretOidc' };
const oidcOk = { clientId: process.env.CLOUDRON_OIDC_CLIENT_ID, clientSecret: process.env.CLOUDRON_OIDC_CLIENT_SECRET };
app.listen(8000);
const s3 = { accessKey: "minio", secretKey: "minio123456" };
