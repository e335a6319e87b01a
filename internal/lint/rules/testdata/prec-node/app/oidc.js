'use strict';

const { Issuer } = require('openid-client');

// Without the oidc variables (installed without Cloudron login) local accounts are used.
module.exports = async function () {
    if (!process.env.OIDC_ISSUER) return null;

    const issuer = await Issuer.discover(process.env.OIDC_ISSUER);
    return new issuer.Client({
        client_id: process.env.OIDC_CLIENT_ID,
        client_secret: process.env.OIDC_CLIENT_SECRET,
        redirect_uris: [ `${process.env.CLOUDRON_APP_ORIGIN}/auth/oidc/callback` ],
        response_types: [ 'code' ]
    });
};
