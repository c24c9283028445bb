"""Objects the authorization matrix (tests/teams/test_authorization.py) needs for the survey."""

from tests.leadership.factories import SurveyRoundFactory


def open_survey_round(world):
    """An open round at the world's school (built once per test)."""
    if not hasattr(world, "survey_round"):
        world.survey_round = SurveyRoundFactory(school=world.school, title="Fall 2026")
    return world.survey_round
