"""Login through the Cloudron directory (the ldap add-on).

Review Board's LDAP backend looks a user up by one attribute. Cloudron's
directory names a user by ``username`` (its ``uid`` is an internal id that
nobody types), while a plain inetOrgPerson directory uses ``uid``: this
backend looks for either, so that the login name is the user's name on
both. Everything else (binding as the user, creating the local account with
name and e-mail) is Review Board's LDAP backend.
"""
import logging

from django.conf import settings
from reviewboard.accounts.backends.ldap import LDAPBackend

logger = logging.getLogger(__name__)


class CloudronLDAPBackend(LDAPBackend):
    backend_id = "cloudron-ldap"
    name = "Cloudron"
    login_instructions = "Log in with your Cloudron username and password."

    def _get_user_dn(self, ldapo, username, request=None):
        import ldap
        from ldap.filter import filter_format

        query = filter_format("(|(username=%s)(uid=%s))", [username, username])
        try:
            found = ldapo.search_s(settings.LDAP_BASE_DN, ldap.SCOPE_SUBTREE, query, ["dn"])
        except ldap.LDAPError as e:
            logger.warning('LDAP lookup of "%s" failed: %s', username, e)
            return None
        if len(found) != 1:
            logger.warning('LDAP: %d entries for "%s"', len(found), username)
            return None
        return found[0][0]
