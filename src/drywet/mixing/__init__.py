"""Multitrack mixing: a console of drywet's own processors (numpy to render, torch to learn),
mixing sessions a user edits and renders, and export to a DAW project."""

from .console import DEFAULT_STRIP, MAX_TRACKS, console
from .reaper import read_rpp, write_rpp
from .session import Bus, Session, Track

__all__ = ["Bus", "DEFAULT_STRIP", "MAX_TRACKS", "Session", "Track", "console", "read_rpp", "write_rpp"]
