'use strict';

// Oracle for TestDifferentialAgainstOfficial (differential_test.go).
//
//   node official_verdicts.js <folder holding node_modules> <folder of *.json manifests>
//
// For every manifest file (sorted by name) it runs the official parseString,
// counting a thrown exception as "invalid", and, when the manifest is valid,
// checkAppstoreRequirements. It prints one JSON array of verdicts on stdout:
//   {file, valid, error, store, storeError}
// store is null when the manifest is invalid (the store check is not run).

const fs = require('fs');
const path = require('path');

const [moduleDir, manifestDir] = process.argv.slice(2);
const manifestformat = require(path.join(moduleDir, 'node_modules', 'cloudron-manifestformat'));

const verdicts = [];
for (const file of fs.readdirSync(manifestDir).filter((f) => f.endsWith('.json')).sort()) {
    const text = fs.readFileSync(path.join(manifestDir, file), 'utf8');
    const verdict = { file, valid: false, error: '', store: null, storeError: '' };
    try {
        const result = manifestformat.parseString(text);
        verdict.valid = !result.error;
        if (result.error) verdict.error = result.error.message;
        if (verdict.valid) {
            try {
                const storeError = manifestformat.checkAppstoreRequirements(result.manifest);
                verdict.store = storeError === null;
                if (storeError) verdict.storeError = storeError.message;
            } catch (e) {
                verdict.store = false;
                verdict.storeError = 'threw: ' + e.message;
            }
        }
    } catch (e) {
        verdict.error = 'threw: ' + e.message;
    }
    verdicts.push(verdict);
}
process.stdout.write(JSON.stringify(verdicts));
