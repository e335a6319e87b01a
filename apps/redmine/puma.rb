# Puma for Redmine on Cloudron: one process, a few threads, port 3000.
directory '/usr/share/redmine'
rackup '/usr/share/redmine/config.ru'
environment 'production'
bind 'tcp://0.0.0.0:3000'
threads Integer(ENV.fetch('PUMA_MIN_THREADS', '1')), Integer(ENV.fetch('PUMA_MAX_THREADS', '5'))
workers 0
# SIGTERM: finish the requests in flight, but never past Cloudron's 10 s.
force_shutdown_after 5
quiet false
# A SIGTERM is the normal way Cloudron stops the app: exit 0, not 1.
raise_exception_on_sigterm false
