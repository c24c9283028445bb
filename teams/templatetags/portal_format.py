"""Formatting the portal's pages share."""

from django import template

register = template.Library()


@register.filter
def percent(value):
    """``37.5`` → "37.5%"; a missing figure (None) → "—", so a zero still reads as 0%."""
    return "—" if value is None else f"{value}%"


@register.filter
def signed(value):
    """A change with its sign: ``9.0`` → "+9", ``-2.5`` → "−2.5", ``0`` → "0"; None → "—"."""
    if value is None:
        return "—"
    text = f"{float(value):+g}"
    return "0" if float(value) == 0 else text.replace("-", "\N{MINUS SIGN}")


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` for a key held in a variable; None when absent."""
    return (mapping or {}).get(key)
