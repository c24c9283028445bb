"""The item bank of the leadership self-assessment survey, written in the portal's own words.

Six elements of effective distributed leadership, three statements each, answered on a 1–5
agreement scale. Answers are stored under each item's ``key`` and its element's key, never its
wording, so a statement can be reworded without losing earlier rounds' results. Keys are forever:
retire an item by removing it from ``ITEMS`` (its old answers stay in the database and still count
towards their element's results in the rounds that asked it), never by reusing its key.
"""

from dataclasses import dataclass

MIN_RESPONSES = 5  # fewer responses than this in a group and its results never leave the database


@dataclass(frozen=True)
class Element:
    key: str
    name: str
    summary: str


@dataclass(frozen=True)
class Item:
    key: str
    element: str
    text: str


ELEMENTS = (
    Element(
        "principal",
        "A principal who grows leadership",
        "The principal hands real leadership to others and stands behind them.",
    ),
    Element(
        "collaboration",
        "Learning, solving problems and deciding together",
        "Staff time goes to shared work on teaching, and decisions rest on evidence.",
    ),
    Element(
        "engagement",
        "Real chances to take part",
        "Anyone can find a way in, and people are chosen for what they know.",
    ),
    Element(
        "empowerment",
        "Room to act",
        "People who carry responsibility also have the authority to act on it.",
    ),
    Element(
        "trust",
        "A culture of trust",
        "Disagreement is safe, mistakes are for learning and people keep their word.",
    ),
    Element(
        "capacity",
        "Building everyone's capacity",
        "Feedback, training and working alongside colleagues help people grow.",
    ),
)

ITEMS = (
    Item(
        "principal_invites_leading",
        "principal",
        "Our principal invites teachers to lead work that matters to the school, not only to run "
        "tasks.",
    ),
    Item(
        "principal_explains_decisions",
        "principal",
        "Our principal explains how decisions are made and who has a say in them.",
    ),
    Item(
        "principal_backs_leaders",
        "principal",
        "When teachers take the lead on something, our principal backs them with time and "
        "resources.",
    ),
    Item(
        "collaboration_time_on_teaching",
        "collaboration",
        "The time we spend together as a staff goes to teaching and learning, not announcements.",
    ),
    Item(
        "collaboration_problems_together",
        "collaboration",
        "When a problem comes up, colleagues work on it together rather than each alone.",
    ),
    Item(
        "collaboration_evidence_first",
        "collaboration",
        "Our teams look at student work and data before deciding what to change.",
    ),
    Item(
        "engagement_roles_are_open",
        "engagement",
        "Anyone on staff can find out how to join a team or take on a leadership role.",
    ),
    Item(
        "engagement_chosen_for_expertise",
        "engagement",
        "People are asked to lead because of what they know, not how long they have been here.",
    ),
    Item(
        "engagement_shaped_a_decision",
        "engagement",
        "This year I have had a real chance to shape a decision about our school.",
    ),
    Item(
        "empowerment_try_new_approaches",
        "empowerment",
        "I can try a new approach in my classroom without waiting for permission.",
    ),
    Item(
        "empowerment_authority_with_responsibility",
        "empowerment",
        "People who are given a responsibility are also given the authority to act on it.",
    ),
    Item(
        "empowerment_ideas_acted_on",
        "empowerment",
        "Ideas that come from teachers are taken up and acted on.",
    ),
    Item(
        "trust_safe_to_disagree",
        "trust",
        "It is safe to disagree openly in our meetings.",
    ),
    Item(
        "trust_mistakes_for_learning",
        "trust",
        "Mistakes are treated as something to learn from, not something to hide.",
    ),
    Item(
        "trust_people_follow_through",
        "trust",
        "When colleagues say they will do something, they do it.",
    ),
    Item(
        "capacity_feedback_helps",
        "capacity",
        "The feedback I receive helps me improve my teaching.",
    ),
    Item(
        "capacity_leaders_are_developed",
        "capacity",
        "Teacher leaders here get training and support to lead their colleagues.",
    ),
    Item(
        "capacity_learn_from_peers",
        "capacity",
        "I regularly learn by watching or working alongside colleagues.",
    ),
)

SCALE = (
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Neither agree nor disagree"),
    (4, "Agree"),
    (5, "Strongly agree"),
)
SCALE_VALUES = tuple(value for value, _ in SCALE)

ELEMENTS_BY_KEY = {element.key: element for element in ELEMENTS}
ITEMS_BY_KEY = {item.key: item for item in ITEMS}


def items_of(element_key):
    return [item for item in ITEMS if item.element == element_key]
