'use strict';

// Oracle for TestFormatsMatchNode (formats_diff_test.go): runs the official
// validator's format checks on the candidates the Go test wrote, and prints
// the verdicts as JSON on stdout.
//
//   node formats_oracle.js <folder holding node_modules> <candidates.json>
//
// Each format is checked twice: by calling the function the format uses
// (isId, semver.parse, validator.isEmail, validator.isURL) and through
// manifestformat.parse on a minimal manifest holding the candidate, which runs
// the real tv4 format. The two must agree; any disagreement is reported in
// "disagreements". byteString and cronpattern are not exported, so their
// verdicts come from parse() alone.

const fs = require('fs');
const path = require('path');

const [dir, inputFile] = process.argv.slice(2);
const load = (name) => require(path.join(dir, 'node_modules', name));
const manifestformat = load('cloudron-manifestformat');
const semver = load('semver');
const validator = load('validator');

const input = JSON.parse(fs.readFileSync(inputFile, 'utf8'));
const disagreements = [];

const URL_OPTIONS = () => ({
    protocols: ['http', 'https'],
    require_tld: true,
    require_protocol: false,
    allow_underscores: false,
    host_whitelist: false,
    host_blacklist: false,
});

// schemaError returns the message of parse() for a minimal manifest with
// extra fields, or null when it validates.
function schemaError(extra) {
    const manifest = Object.assign({ manifestVersion: 2, version: '1.0.0', httpPort: 80 }, extra);
    const err = manifestformat.parse(manifest);
    return err ? err.message : null;
}

function check(format, value, direct, viaSchema) {
    if (direct !== viaSchema) {
        disagreements.push(`${format} ${JSON.stringify(value)}: direct call says ${direct}, parse() says ${viaSchema}`);
    }
    return direct;
}

function semverResult(s) {
    const v = semver.parse(s);
    if (!v) return null;
    return {
        major: v.major,
        minor: v.minor,
        patch: v.patch,
        prerelease: v.prerelease,
        build: v.build,
        version: v.version,
    };
}

const CRON_PREFIX = 'Format validation failed (';
const CRON_SUFFIX = ') @ /addons/scheduler/job/schedule';

function cronMessage(s) {
    const err = schemaError({ addons: { scheduler: { job: { schedule: s, command: 'true' } } } });
    if (err === null) return '';
    if (!err.startsWith(CRON_PREFIX) || !err.endsWith(CRON_SUFFIX)) {
        disagreements.push(`cron ${JSON.stringify(s)}: unexpected error shape ${JSON.stringify(err)}`);
        return err;
    }
    return err.slice(CRON_PREFIX.length, err.length - CRON_SUFFIX.length);
}

const out = {
    id: input.id.map((s) => check('id', s, manifestformat.isId(s), schemaError({ id: s }) === null)),
    semver: input.semver.map((s) => {
        const r = semverResult(s);
        check('semver', s, semver.valid(s) !== null, schemaError({ version: s }) === null);
        return r;
    }),
    compare: input.compare.map(([a, b]) => semver.compare(a, b)),
    email: input.email.map((s) => check('email', s, validator.isEmail(s), schemaError({ contactEmail: s }) === null)),
    url: input.url.map((s) => check('url', s, validator.isURL(s, URL_OPTIONS()), schemaError({ website: s }) === null)),
    byteString: input.byteString.map((s) => schemaError({ memoryLimit: s }) === null),
    cron: input.cron.map(cronMessage),
    disagreements,
};

process.stdout.write(JSON.stringify(out));
