"""Pages. Each reads input, calls one service, renders. No business rules here."""
from flask_appbuilder import IndexView


class HomeView(IndexView):
    index_template = "home.html"


def register(appbuilder) -> None:
    pass
