"""Extensions, created once and bound to the app in create_app()."""
from flask_appbuilder import AppBuilder
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = get_sqla_class()()
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
appbuilder = AppBuilder(update_perms=False)
