"""Reference data: seeded once, extendable by the right role, and failures said plainly."""
import re

import sqlalchemy as sa

from app.extensions import db
from app.models import ConcernType, Indicator
from app.seed import CONCERN_TYPES, INDICATORS, seed_reference
from tests.conftest import csrf_token


def test_seeding_is_idempotent_and_complete(ctx):
    assert seed_reference() == 0
    assert db.session.scalars(sa.select(ConcernType.label).order_by(ConcernType.position)).all()[:len(CONCERN_TYPES)] \
        == CONCERN_TYPES
    seeded = set(db.session.execute(sa.select(Indicator.kind, Indicator.label)).tuples())
    assert {(kind, label) for kind, labels in INDICATORS.items() for label in labels} <= seeded


def test_duplicate_indicator_is_refused_without_showing_the_database_error(web):
    lead = web("lead")
    token = csrf_token(lead.get("/indicatorview/add").get_data(as_text=True))
    form = {"kind": "indicator", "label": "Withdrawn", "position": "0", "active": "y", "csrf_token": token}
    page = lead.post("/indicatorview/add", data=form, follow_redirects=True).get_data(as_text=True)
    assert "could not be saved" in page
    assert not re.search(r"INSERT|UNIQUE|IntegrityError|constraint|\[SQL", page, re.IGNORECASE)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Indicator)
                             .where(Indicator.label == "Withdrawn")) == 1


def test_lead_adds_an_indicator_offered_on_the_concern_form(web):
    lead = web("lead")
    token = csrf_token(lead.get("/indicatorview/add").get_data(as_text=True))
    lead.post("/indicatorview/add", data={"kind": "vulnerability", "label": "Online grooming", "position": "20",
                                          "active": "y", "csrf_token": token})
    assert "Online grooming" in web("staff").get("/concerns/new").get_data(as_text=True)


def test_the_lead_retires_an_indicator_by_unticking_active(web, ctx):
    lead = web("lead")
    token = csrf_token(lead.get("/indicatorview/add").get_data(as_text=True))
    lead.post("/indicatorview/add", data={"kind": "indicator", "label": "Soon retired", "position": "30",
                                          "active": "y", "csrf_token": token})
    indicator_id = db.session.scalar(sa.select(Indicator.id).where(Indicator.label == "Soon retired"))
    page = lead.get(f"/indicatorview/edit/{indicator_id}").get_data(as_text=True)
    lead.post(f"/indicatorview/edit/{indicator_id}", data={"kind": "indicator", "label": "Soon retired",
                                                           "position": "30", "csrf_token": csrf_token(page)})
    db.session.expire_all()
    assert db.session.get(Indicator, indicator_id).active is False
    assert "Soon retired" not in web("staff").get("/concerns/new").get_data(as_text=True)
