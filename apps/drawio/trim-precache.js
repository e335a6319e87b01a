// Removes from the service worker's precache list the files this package
// does not ship (upstream's list also names the Jira and Confluence
// connectors, which the npm package leaves out): the browser installs a
// service worker only when every file of its list downloads.
// Usage: node trim-precache.js DIR (the web app's folder).
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
const file = path.join(dir, 'service-worker.js');
const src = fs.readFileSync(file, 'utf8');
const entry = /\{url:"([^"]+)",revision:"[^"]*"\},?/g;
let kept = 0;
const dropped = [];
let out = src.replace(entry, (whole, url) => {
    if (fs.existsSync(path.join(dir, url))) {
        kept++;
        return whole;
    }
    dropped.push(url);
    return '';
});
out = out.replace(/\},\]/g, '}]');
if (kept === 0) {
    console.error('trim-precache: no precache entry found: the service worker changed its format');
    process.exit(1);
}
fs.writeFileSync(file, out);
console.log(`trim-precache: ${kept} files kept, ${dropped.length} dropped: ${dropped.join(' ')}`);
