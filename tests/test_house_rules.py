"""The house rules that code can check, read from the source (parsed, not grepped)."""
from __future__ import annotations

import ast
from pathlib import Path

from app.kernel.uow import COMMIT_EXCEPTIONS

ROOT = Path(__file__).resolve().parent.parent
# A commit, or a transaction that commits when its block ends (`engine.begin()`, `session.begin()`; a SAVEPOINT's
# `begin_nested()` commits nothing).
COMMITTING_ATTRIBUTES = {"commit", "begin"}


def commits_in(path: Path) -> list[tuple[str, int]]:
    """(qualified name of the enclosing function, line) of every commit in the module."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = (*scope, node.name)
        if isinstance(node, ast.Attribute) and node.attr in COMMITTING_ATTRIBUTES:
            found.append((".".join(scope) or "<module>", node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), ())
    return found


def all_commits() -> dict[tuple[str, str], list[int]]:
    commits: dict[tuple[str, str], list[int]] = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        for function, line in commits_in(path):
            commits.setdefault((module, function), []).append(line)
    return commits


def test_only_the_unit_of_work_and_the_listed_exceptions_commit():
    outside = {f"{module}:{line} in {function}" for (module, function), lines in all_commits().items()
               if (module, function) not in COMMIT_EXCEPTIONS for line in lines}
    assert outside == set(), ("Commit through app/kernel/uow.py's unit_of_work(), or name the function in "
                              "COMMIT_EXCEPTIONS there with the reason.")


def test_every_listed_exception_still_commits_and_says_why():
    commits = all_commits()
    assert [where for where in COMMIT_EXCEPTIONS if where not in commits] == []
    assert all(reason.strip() for reason in COMMIT_EXCEPTIONS.values())


def test_the_check_finds_a_commit_wherever_it_is_written(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("def save(session):\n    session.commit()\n\n\n"
                      "class Store:\n    def save(self):\n        with db.engine.begin() as conn:\n            pass\n"
                      "        db.session.begin_nested()\n\n\n"
                      "callback = db.session.commit\n", encoding="utf-8")
    assert commits_in(module) == [("save", 2), ("Store.save", 7), ("<module>", 12)]


def test_templates_leave_formatting_and_permissions_to_the_filters_and_views():
    """Dates, times and stored names are shown through app/kernel/formats.py; what the user may do comes from the
    view as `may`. (Template text is not Python: these are its only spellings of the old ways.)"""
    old_ways = ("strftime(", ".replace('_'", "replace(\"_\"", "|replace('_'", "|local", "can(current_user")
    found = [(path.relative_to(ROOT).as_posix(), way) for path in sorted((ROOT / "app" / "templates").rglob("*.html"))
             for way in old_ways if way in path.read_text(encoding="utf-8")]
    assert found == []


# --- no test commits into a database shared with another test (tests/conftest.py) -------------------------------

def test_the_app_s_commits_in_a_test_are_savepoint_releases_not_real_commits(app, ctx):
    from tests import conftest
    from tests.factories import make_case
    before = len(conftest._REAL_COMMITS)
    make_case("staff", "under_review")  # three use cases, three commits through the unit of work
    assert conftest._REAL_COMMITS[before:] == []


def test_a_real_commit_fails_the_test_that_made_it_unless_it_is_marked_commits(app):
    """The guard that keeps the rule true: any real COMMIT, on any engine, during a test not marked `commits`."""
    import pytest
    import sqlalchemy as sa

    from tests import conftest
    with pytest.raises(pytest.fail.Exception, match="real COMMIT"), conftest._rolled_back(app):
        elsewhere = sa.create_engine("sqlite://")  # a database of nobody's: the guard counts every engine's commits
        with elsewhere.begin() as connection:
            connection.execute(sa.text("SELECT 1"))
        elsewhere.dispose()


def test_no_module_grows_past_what_a_reader_takes_in():
    """A module over about 500 lines holds more than one idea: split it within its area (README, Where things are)."""
    longest = 550
    too_long = {path.relative_to(ROOT).as_posix(): lines for path in sorted((ROOT / "app").rglob("*.py"))
                if (lines := len(path.read_text(encoding="utf-8").splitlines())) > longest}
    assert too_long == {}


def test_every_area_keeps_its_pages_api_and_use_cases_in_its_own_folder():
    """app/ holds the design card's entry points and the areas; nothing else grows flat beside them."""
    flat = sorted(path.name for path in (ROOT / "app").glob("*.py"))
    assert flat == ["__init__.py", "api.py", "cli.py", "extensions.py", "models.py", "seed.py", "views.py"]
