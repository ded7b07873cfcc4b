"""Entry point for production servers: ``gunicorn wsgi:app``."""

import sys

from trainapp import create_app
from trainapp.config import ConfigError

try:
    app = create_app()
except ConfigError as refused:
    # One line an operator can act on, not a traceback. 4 is gunicorn's "application failed to
    # load", which stops the server instead of starting the worker again and again.
    print(refused.message, file=sys.stderr)
    sys.exit(4)
