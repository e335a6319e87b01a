# gunicorn for Review Board, behind nginx in the same container.
bind = "127.0.0.1:8080"
workers = 2
threads = 4
timeout = 120
# Workers get 5 s to finish on a graceful stop or reload (HUP).
graceful_timeout = 5
# Workers restart now and then, so that memory stays within the app's limit.
max_requests = 1000
max_requests_jitter = 100
accesslog = None
errorlog = "-"
loglevel = "info"
worker_tmp_dir = "/run/reviewboard"
# gunicornc's control socket, in /run (the default is under $HOME).
control_socket = "/run/reviewboard/gunicorn.ctl"
