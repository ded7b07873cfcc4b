"""trainapp: training scheduling and booking for multi-agency partnerships."""

import logging
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from trainapp import extensions, security_log
from trainapp.config import DefaultConfig, from_environment
from trainapp.db import configure_engine, end_request_session
from trainapp.inputs import install_input_rules

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application: config -> extensions -> templates -> blueprints -> CLI."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    install_input_rules(app)
    app.config.from_object(DefaultConfig)
    app.config.update(config if config is not None else from_environment(Path(app.instance_path)))
    if app.config.get("PROXY_HOPS"):
        hops = app.config["PROXY_HOPS"]
        # Flask's documented way to wrap the app in WSGI middleware; its hints declare a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    _keep_secrets_out_of_logs()
    security_log.configure(app)
    _init_extensions(app)
    _init_templates(app)
    _register_blueprints(app)
    _connect_signal_receivers()

    from trainapp.cli import register_commands

    register_commands(app)
    return app


class _RedactSecrets(logging.Filter):
    """Calendar links carry a secret in their path: no log line may show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        from trainapp.calendars.links import redact

        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _keep_secrets_out_of_logs() -> None:
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", "trainapp"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSecrets) for f in logger.filters):
            logger.addFilter(_RedactSecrets())


def _init_extensions(app: Flask) -> None:
    # Import every model so the metadata (and migrations) see the whole schema.
    from trainapp import models  # noqa: F401

    # `extensions.db`, never a bare `db` here: the package's own `trainapp.db`
    # module must not be shadowed (migrations import it).
    db = extensions.db
    login_manager = extensions.login_manager
    db.init_app(app)

    # Registered after Flask-SQLAlchemy's clean-up, so it runs before it (last in, first out).
    @app.teardown_appcontext
    def _end_session(_error):
        end_request_session(db.session)

    extensions.migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    extensions.csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see this page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load_user(token: str):
        from trainapp.accounts.models import User

        return db.session.scalar(sa.select(User).where(User.session_token == token, User.active.is_(True)))

    with app.app_context():
        configure_engine(db.engine)

    from trainapp.security import install_security_headers

    install_security_headers(app)


def _init_templates(app: Flask) -> None:
    from trainapp import filters
    from trainapp.security import csp_nonce

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)
    filters.register(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce


def _connect_signal_receivers() -> None:
    # Every receiver of a lower feature's signals, in one place, whatever else gets imported.
    from trainapp.funding.charges import connect_receivers as connect_charges

    connect_charges()


def _register_blueprints(app: Flask) -> None:
    from trainapp.accounts import agency_routes, user_routes
    from trainapp.accounts import routes as account_routes
    from trainapp.attendance import routes as attendance_routes
    from trainapp.bookings import needs_routes as access_needs_routes
    from trainapp.bookings import places as booking_places
    from trainapp.bookings import routes as booking_routes
    from trainapp.bookings import session_admin_routes
    from trainapp.calendars import routes as calendar_routes
    from trainapp.catalogue import admin_routes as catalogue_admin_routes
    from trainapp.catalogue import routes as catalogue_routes
    from trainapp.core import routes as core_routes
    from trainapp.core.error_pages import register_error_pages
    from trainapp.funding import routes as funding_routes
    from trainapp.governance import routes as governance_routes
    from trainapp.notifications import routes as outbox_routes
    from trainapp.people import routes as people_routes
    from trainapp.reports import routes as report_routes

    app.register_blueprint(core_routes.bp)
    app.register_blueprint(account_routes.bp)
    app.register_blueprint(user_routes.bp)
    app.register_blueprint(agency_routes.bp)
    app.register_blueprint(people_routes.bp)
    app.register_blueprint(catalogue_routes.bp)
    app.register_blueprint(catalogue_admin_routes.bp)
    app.register_blueprint(booking_routes.bp)
    app.register_blueprint(session_admin_routes.bp)
    app.register_blueprint(access_needs_routes.bp)
    # Catalogue pages show places left and the booking panel; bookings answers for them,
    # so catalogue code never imports bookings.
    booking_places.connect(app)
    app.register_blueprint(attendance_routes.bp)
    app.register_blueprint(calendar_routes.bp)
    app.register_blueprint(funding_routes.bp)
    app.register_blueprint(report_routes.bp)
    app.register_blueprint(governance_routes.bp)
    app.register_blueprint(outbox_routes.bp)
    register_error_pages(app)
