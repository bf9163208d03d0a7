"""How times and people read on screen: one implementation, whatever shows them."""

from __future__ import annotations

import pytest

from lessonreview.core.domain import format_time, person_name, person_sort_key


@pytest.mark.parametrize(
    ("seconds", "kwargs", "text"),
    [
        (10.0, {}, "0:10.00"),
        (59.999, {}, "1:00.00"),
        (3725.5, {}, "1:02:05.50"),
        (2.0, {"pad_minutes": True}, "00:02.00"),
        (3725.5, {"pad_minutes": True}, "1:02:05.50"),
        (12.7, {"hundredths": False}, "0:12"),
        (59.9999999, {"hundredths": False, "pad_minutes": True}, "01:00"),
        (3600.0, {"hundredths": False}, "1:00:00"),
        (-1.0, {}, "0:00.00"),
    ],
)
def test_times_read_as_a_clock(seconds, kwargs, text):
    assert format_time(seconds, **kwargs) == text


def test_a_person_reads_as_their_name_else_their_number():
    assert person_name("P7") == "Person 7"
    assert person_name("P7", "Teacher") == "Teacher"
    assert person_name("P3@120") == "P3@120"


def test_people_are_listed_by_number_with_a_split_person_after_its_origin():
    people = ["P10", "P3@120", "P2", "P3"]
    assert sorted(people, key=person_sort_key) == ["P2", "P3", "P3@120", "P10"]
