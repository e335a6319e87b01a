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
end
