"""Views of the leadership self-assessment survey."""
