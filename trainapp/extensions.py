"""Flask extensions, created unbound and initialised by ``create_app``."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from trainapp.db import Base

db = SQLAlchemy(model_class=Base)

# The base class for every model. At run time it is db.Model (Base with Flask-SQLAlchemy's
# mixins), but a type checker cannot use an instance attribute as a base class, and typing
# models as subclasses of Base keeps their attributes checked.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
