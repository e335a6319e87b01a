<?php
# The package's fixed MediaWiki settings, loaded by the LocalSettings.php
# that start.sh generates on every start. Your own settings belong in
# /app/data/LocalSettings.custom.php, which is loaded after this file.
if ( !defined( 'MEDIAWIKI' ) ) {
	exit;
}

$wgSitename = 'Wiki';
$wgMetaNamespace = 'Project';
$wgLanguageCode = 'en';
$wgLocaltimezone = 'UTC';

# Short URLs: nginx sends /wiki/<title> to index.php.
$wgScriptPath = '';
$wgArticlePath = '/wiki/$1';
$wgResourceBasePath = $wgScriptPath;
$wgUsePathInfo = true;
$wgLogos = [
	'1x' => "$wgResourceBasePath/resources/assets/wiki.png",
	'icon' => "$wgResourceBasePath/resources/assets/wiki.png",
];

# Database: the mysql addon (server and credentials are set by start.sh).
$wgDBtype = 'mysql';
$wgDBprefix = '';
$wgDBTableOptions = 'ENGINE=InnoDB, DEFAULT CHARSET=binary';

# Writable places: uploads in /app/data (backed up), caches in /run.
$wgEnableUploads = true;
$wgUploadDirectory = '/app/data/images';
$wgUploadPath = "$wgScriptPath/images";
$wgCacheDirectory = '/run/mediawiki/cache';
$wgTmpDirectory = '/tmp';
$wgUseImageMagick = false;
$wgMaxUploadSize = 100 * 1024 * 1024;

# Caches: APCu for objects, the database for sessions and parser output,
# so that logins survive restarts.
$wgMainCacheType = CACHE_ACCEL;
$wgSessionCacheType = CACHE_DB;
$wgParserCacheType = CACHE_DB;
$wgMessageCacheType = CACHE_ACCEL;

# No outgoing calls the wiki does not need.
$wgUseInstantCommons = false;
$wgPingback = false;
$wgShellLocale = 'C.UTF-8';

# Jobs (links tables, notifications, ReplaceText, …) run in the background
# worker (jobrunner.sh under supervisord), not at the end of page views.
$wgJobRunRate = 0;

# Client addresses come from Cloudron's reverse proxy ($wgCdnServersNoPurge).
$wgUsePrivateIPs = true;

# Rights: everyone reads, only users edit; accounts are made by admins
# (Special:CreateAccount) unless LocalSettings.custom.php opens sign-up.
$wgGroupPermissions['*']['createaccount'] = false;
$wgGroupPermissions['*']['edit'] = false;
$wgRightsText = '';
$wgRightsUrl = '';

# E-mail authentication for address changes; mail itself goes through the
# sendmail addon ($wgSMTP, set by start.sh).
$wgEmailAuthentication = true;
$wgEnotifUserTalk = true;
$wgEnotifWatchlist = true;

# Skins and extensions shipped with the package.
wfLoadSkin( 'Vector' );
wfLoadSkin( 'MonoBook' );
wfLoadSkin( 'Timeless' );
wfLoadSkin( 'MinervaNeue' );
$wgDefaultSkin = 'vector';

wfLoadExtensions( [
	'CategoryTree',
	'Cite',
	'CiteThisPage',
	'ImageMap',
	'InputBox',
	'Interwiki',
	'MultimediaViewer',
	'Nuke',
	'ParserFunctions',
	'Poem',
	'Renameuser',
	'ReplaceText',
	'SecureLinkFixer',
	'TemplateData',
	'WikiEditor',
] );
$wgGroupPermissions['sysop']['interwiki'] = true;
