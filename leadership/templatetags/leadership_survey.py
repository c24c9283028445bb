"""``{% leadership_survey_prompt %}``: a "Leadership survey" prompt for each open round the
signed-in person has not answered yet (one query; nothing for people with no school)."""

from django import template

from leadership.permissions import rounds_to_answer

register = template.Library()


@register.inclusion_tag("leadership/survey/_prompt.html", takes_context=True)
def leadership_survey_prompt(context):
    user = context["request"].user
    return {"rounds": list(rounds_to_answer(user)) if user.is_authenticated else []}
