"""NetBox's WSGI application, loaded once by gunicorn's master (preload_app).

Importing the URL configuration builds NetBox's GraphQL schema, several
seconds of CPU: done here, before the workers fork, every worker answers
its first request at once and shares the loaded code. Connections opened
while loading are closed so that no worker inherits a socket.
"""

from netbox.wsgi import application

from django.db import connections
from django.urls import get_resolver

get_resolver().url_patterns
connections.close_all()

__all__ = ['application']
