"""The filters pages show values through: the same text the templates wrote out by hand before."""
from __future__ import annotations

from datetime import UTC, date, datetime

from app.kernel.formats import human, uk_date, uk_datetime, words


def test_a_stored_name_reads_as_words():
    assert words("no_further_action") == "no further action"
    assert words("reported") == "reported"


def test_a_day_is_shown_as_in_the_uk():
    assert uk_date(date(2026, 3, 7)) == "07 Mar 2026"
    assert uk_date(date(2026, 3, 7), full_month=True) == "07 March 2026"
    # A moment late in the evening (UTC) in summer is already the next day in the UK.
    assert uk_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "01 Jul 2026"
    assert uk_date(None) == ""


def test_a_moment_is_shown_in_uk_time_to_the_minute_or_the_second():
    moment = datetime(2026, 6, 30, 23, 30, 15, tzinfo=UTC)
    assert uk_datetime(moment) == "01 Jul 2026 00:30"
    assert uk_datetime(moment, seconds=True) == "01 Jul 2026 00:30:15"
    assert uk_datetime(datetime(2026, 12, 1, 9, 5, tzinfo=UTC)) == "01 Dec 2026 09:05"
    assert uk_datetime(None) == ""


def test_a_value_in_a_generic_list_reads_as_people_say_it():
    from app.cases.models import IndicatorKind
    assert human(True) == "Yes" and human(False) == "No"
    assert human(IndicatorKind.contributory_factor) == "Contributory factor"
    assert human(None) == ""
    assert human(date(2026, 3, 7)) == "07 Mar 2026"
    assert human(["Staff", "Admin"]) == "Staff, Admin"
    assert human("officer_2") == "officer_2"  # a name someone typed stays as they typed it
