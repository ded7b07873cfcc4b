"""Read by gunicorn from the folder it starts in: unsafe settings stop it before any worker starts.

Without this file wsgi.py still refuses them, but among gunicorn's own log lines.
"""

import sys

from trainapp import PROJECT_ROOT
from trainapp.config import ConfigError, from_environment


def _refuse_unsafe_settings() -> None:
    try:
        from_environment(PROJECT_ROOT / "instance")
    except ConfigError as refused:
        sys.exit(refused.message)


_refuse_unsafe_settings()
