# Tasks start.sh runs in the same Rails boot as the migrations.
namespace :cloudron do
  desc 'Apply the platform settings: sender address, host name, protocol'
  task :settings => :environment do
    Setting.clear_cache
    Setting.host_name = ENV['CLOUDRON_APP_DOMAIN'] if ENV['CLOUDRON_APP_DOMAIN'].present?
    Setting.protocol = 'https'
    Setting.mail_from = ENV['CLOUDRON_MAIL_FROM'] if ENV['CLOUDRON_MAIL_FROM'].present?
    puts "==> Settings: host #{Setting.host_name}, mail from #{Setting.mail_from}"
  end

  desc 'Give the admin account the password in REDMINE_ADMIN_PASSWORD_FILE'
  task :admin => :environment do
    admin = User.find_by(login: 'admin') or abort('no admin account')
    admin.password = File.read(ENV['REDMINE_ADMIN_PASSWORD_FILE']).strip
    admin.password_confirmation = admin.password
    admin.must_change_passwd = false
    admin.mail = "admin@#{ENV['CLOUDRON_APP_DOMAIN']}" if ENV['CLOUDRON_APP_DOMAIN'].present?
    admin.save!
    puts '==> The admin password is set'
  end

  desc 'Point the authentication source "Cloudron" at the ldap addon (CLOUDRON_LDAP_*)'
  task :ldap => :environment do
    require 'net/ldap'
    host = ENV.fetch('CLOUDRON_LDAP_SERVER')
    source = AuthSourceLdap.find_by(name: 'Cloudron') || AuthSourceLdap.new(name: 'Cloudron')
    port = ENV.fetch('CLOUDRON_LDAP_PORT').to_i
    bind_dn = ENV.fetch('CLOUDRON_LDAP_BIND_DN')
    bind_password = ENV.fetch('CLOUDRON_LDAP_BIND_PASSWORD')
    base_dn = ENV.fetch('CLOUDRON_LDAP_USERS_BASE_DN')
    # Cloudron's directory names a user's login "username" (its uid is the
    # user id); a plain inetOrgPerson directory has only "uid". Use username
    # when the directory has it; when it cannot be asked, keep what was set.
    attr_login = source.attr_login.presence || 'username'
    begin
      ldap = Net::LDAP.new(host: host, port: port,
                           auth: {method: :simple, username: bind_dn, password: bind_password})
      found = 0
      ldap.search(base: base_dn, filter: Net::LDAP::Filter.pres('username'), attributes: ['dn'],
                  return_result: false) { found += 1 }
      result = ldap.get_operation_result
      if result.code == 0
        attr_login = found > 0 ? 'username' : 'uid'
      else
        warn "==> LDAP: cannot search #{base_dn} on #{host}:#{port}: #{result.message}"
      end
    rescue Net::LDAP::Error, SystemCallError, SocketError => e
      warn "==> LDAP: cannot reach #{host}:#{port}: #{e.message}"
    end
    source.attributes = {
      host: host, port: port, ldap_mode: :ldap,
      account: bind_dn, account_password: bind_password, base_dn: base_dn,
      attr_login: attr_login,
      attr_firstname: 'givenName', attr_lastname: 'sn', attr_mail: 'mail',
      onthefly_register: true, timeout: 10, filter: nil
    }
    source.save!
    puts "==> LDAP: users of #{base_dn} on #{host}:#{port} log in by #{source.attr_login} (created on their first login)"
  end
end
