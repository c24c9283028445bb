from teams.templatetags.portal_format import percent


def test_percent_shows_zero_and_marks_a_missing_figure():
    assert [percent(37.5), percent(0.0), percent(None)] == ["37.5%", "0.0%", "—"]
