import os

SECRET_KEY = 'django-insecure-8f7a6s5d4f3g2h1j'
SECRET_KEY = os.environ.get('SECRET_KEY', '')
OIDC_RP_CLIENT_SECRET = os.environ['CLOUDRON_OIDC_CLIENT_SECRET']
OIDC_RP_CLIENT_SECRET = "9a8b7c6d5e4f"
