# gunicorn for NetBox, behind nginx (which serves the static files).
# The application is loaded once in the master (see wsgi.py).
pythonpath = '/app/pkg'
wsgi_app = 'wsgi:application'
preload_app = True
bind = '127.0.0.1:8001'
workers = int(__import__('os').environ.get('NETBOX_GUNICORN_WORKERS', '2'))
threads = 3
timeout = 120
max_requests = 5000
max_requests_jitter = 500
# the temporary heartbeat files of the workers: /tmp is writable, the code is not
worker_tmp_dir = '/tmp'
accesslog = '-'
errorlog = '-'
# gunicorn's control socket (gunicornc) in /run: its default is in $HOME.
control_socket = '/run/netbox/gunicorn.ctl'
# supervisord stops gunicorn with SIGINT (quick shutdown) and kills it after
# 4 s: the platform kills the whole app 10 s after SIGTERM.
graceful_timeout = 3
