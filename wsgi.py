"""Entry point for production servers: ``gunicorn wsgi:app``."""

from trainapp import create_app

app = create_app()
