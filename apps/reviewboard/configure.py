"""Site configuration kept in Review Board's database, set from the
platform's variables on every start (run by start.sh inside
`rb-site manage SITE shell`): the server's address (a move changes it),
outgoing mail through the sendmail add-on and login through the ldap add-on.
"""
import os

from django.contrib.sites.models import Site
from djblets.siteconfig.models import SiteConfiguration

env = os.environ
domain = env["CLOUDRON_APP_DOMAIN"]

Site.objects.filter(pk=1).update(domain=domain, name=domain)

siteconfig = SiteConfiguration.objects.get_current()
values = {
    "site_domain_method": "https",
    # No telemetry to Beanbag and no news fetched from the network.
    "send_support_usage_stats": False,
}

# Full-text search (Whoosh, the index in the site's data directory), kept
# up to date by the scheduler's search_index task. Set once: an
# administrator may change it later in Administration > Search.
if not siteconfig.get("cloudron_search_defaults"):
    values.update({
        "search_enable": True,
        "search_on_the_fly_indexing": False,
        "cloudron_search_defaults": True,
    })

if env.get("CLOUDRON_MAIL_SMTP_SERVER"):
    values.update({
        "mail_host": env["CLOUDRON_MAIL_SMTP_SERVER"],
        "mail_port": int(env["CLOUDRON_MAIL_SMTP_PORT"]),
        "mail_host_user": env.get("CLOUDRON_MAIL_SMTP_USERNAME", ""),
        "mail_host_password": env.get("CLOUDRON_MAIL_SMTP_PASSWORD", ""),
        "mail_use_tls": False,
        "mail_default_from": env["CLOUDRON_MAIL_FROM"],
        # The mail server only relays mail from the app's own address: the
        # sender's name is kept, the address is the app's.
        "mail_from_spoofing": "never",
        "mail_send_review_mail": True,
        "mail_send_new_user_mail": True,
    })

if env.get("CLOUDRON_LDAP_URL"):
    values.update({
        "auth_backend": "custom",
        "auth_custom_backends": ["cloudron_reviewboard.CloudronLDAPBackend"],
        "auth_ldap_uri": env["CLOUDRON_LDAP_URL"],
        "auth_ldap_base_dn": env["CLOUDRON_LDAP_USERS_BASE_DN"],
        "auth_ldap_anon_bind_uid": env["CLOUDRON_LDAP_BIND_DN"],
        "auth_ldap_anon_bind_passwd": env["CLOUDRON_LDAP_BIND_PASSWORD"],
        "auth_ldap_tls": False,
        "auth_ldap_uid": "username",
        "auth_ldap_uid_mask": "",
        "auth_ldap_email_domain": "",
        "auth_ldap_email_attribute": "mail",
        "auth_ldap_given_name_attribute": "givenName",
        "auth_ldap_surname_attribute": "sn",
        "auth_ldap_full_name_attribute": "displayName",
        # Accounts come from the Cloudron directory.
        "auth_enable_registration": False,
    })
else:
    values.update({"auth_backend": "builtin"})

for key, value in values.items():
    siteconfig.set(key, value)
siteconfig.save()
print("site configuration: %s" % ", ".join(sorted(values)))
