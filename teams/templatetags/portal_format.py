"""Formatting the portal's pages share."""

from django import template

register = template.Library()


@register.filter
def percent(value):
    """``37.5`` → "37.5%"; a missing figure (None) → "—", so a zero still reads as 0%."""
    return "—" if value is None else f"{value}%"
