// Cloudron settings for Jenkins, applied from the environment on every start
// (start.sh links this file into $JENKINS_HOME/init.groovy.d). The platform's
// values may change on any restart, so they are set here each time rather
// than kept from the first run.
import hudson.security.FullControlOnceLoggedInAuthorizationStrategy
import hudson.util.Secret
import jenkins.model.IdStrategy
import jenkins.model.Jenkins
import jenkins.model.JenkinsLocationConfiguration

def env = System.getenv()
def jenkins = Jenkins.get()

// The address Jenkins puts into links and e-mails.
def location = JenkinsLocationConfiguration.get()
location.setUrl(env['CLOUDRON_APP_ORIGIN'] + '/')
if (env['CLOUDRON_MAIL_FROM']) {
    location.setAdminAddress(env['CLOUDRON_MAIL_FROM'])
}
location.save()

// Inbound agents: the TCP port when the admin enabled AGENT_PORT (container
// port 50000), none otherwise (agents can still connect over WebSocket).
jenkins.setSlaveAgentPort(env['AGENT_PORT'] ? 50000 : -1)

// Outgoing mail through the platform, once the Mailer plugin is installed
// (the setup wizard's suggested plugins include it).
def mailer = jenkins.getDescriptor('hudson.tasks.Mailer')
if (mailer != null && env['CLOUDRON_MAIL_SMTP_SERVER']) {
    mailer.setSmtpHost(env['CLOUDRON_MAIL_SMTP_SERVER'])
    mailer.setSmtpPort(env['CLOUDRON_MAIL_SMTP_PORT'])
    mailer.setSmtpAuth(env['CLOUDRON_MAIL_SMTP_USERNAME'], env['CLOUDRON_MAIL_SMTP_PASSWORD'])
    mailer.setUseSsl(false)
    mailer.setReplyToAddress(env['CLOUDRON_MAIL_FROM'])
    mailer.save()
}

// Cloudron login over LDAP: when installed with SSO, and once the LDAP
// plugin is installed (also among the suggested plugins). The plugin's
// classes are looked up at run time, so this script also runs without it.
def loader = jenkins.pluginManager.uberClassLoader
def ldapRealm = null
try {
    ldapRealm = loader.loadClass('hudson.security.LDAPSecurityRealm')
} catch (ClassNotFoundException ignored) {
    println('cloudron.groovy: no LDAP plugin yet: Cloudron login comes once it is installed')
}
if (env['CLOUDRON_LDAP_URL'] && ldapRealm != null) {
    def ldapConfiguration = loader.loadClass('jenkins.security.plugins.ldap.LDAPConfiguration')
    def cfg = ldapConfiguration.newInstance(env['CLOUDRON_LDAP_URL'], 'dc=cloudron', true,
            env['CLOUDRON_LDAP_BIND_DN'], Secret.fromString(env['CLOUDRON_LDAP_BIND_PASSWORD']))
    cfg.userSearchBase = env['CLOUDRON_LDAP_USERS_BASE_DN'].replace(',dc=cloudron', '')
    cfg.userSearch = '(&(objectclass=user)(|(username={0})(mail={0})))'
    cfg.groupSearchBase = env['CLOUDRON_LDAP_GROUPS_BASE_DN'].replace(',dc=cloudron', '')
    cfg.displayNameAttributeName = 'displayname'
    cfg.mailAddressAttributeName = 'mail'
    jenkins.setSecurityRealm(ldapRealm.newInstance([cfg], false, null, IdStrategy.CASE_INSENSITIVE, IdStrategy.CASE_INSENSITIVE))
    // Every Cloudron user the app is open to may do everything; finer
    // rights need the Matrix Authorization plugin.
    def strategy = new FullControlOnceLoggedInAuthorizationStrategy()
    strategy.setAllowAnonymousRead(false)
    jenkins.setAuthorizationStrategy(strategy)
}
jenkins.save()
