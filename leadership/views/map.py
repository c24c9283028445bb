"""Views of the leadership map, the district comparison and the talent pipeline."""
