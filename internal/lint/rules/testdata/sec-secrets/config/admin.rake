# Ruby: a bare word on the right is a variable, not a password.
task :admin do
  password = File.read(ENV.fetch('ADMIN_PASSWORD_FILE')).strip
  admin = User.find_by(login: 'admin')
  admin.password = password
  admin.password_confirmation = password
  # want "SEC004 admin.token is set to a literal password or secret"
  admin.token = "f00dcafe-literal"
  admin.save!
end
