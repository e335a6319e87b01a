<?php
# Your own MediaWiki settings: this file is kept in backups and loaded after
# the package's settings, so anything set here wins. See
# https://www.mediawiki.org/wiki/Manual:Configuration_settings
# Changes take effect on the next request (or restart the app).

# $wgSitename = 'My Wiki';

# Let visitors create their own accounts:
# $wgGroupPermissions['*']['createaccount'] = true;

# More bundled extensions, e.g.:
# wfLoadExtension( 'Math' );
