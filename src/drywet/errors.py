"""The error hierarchy: every message says what was wrong and how to fix it."""


class DrywetError(Exception):
    """Base class of every error raised on purpose by drywet."""


class ParameterError(DrywetError, ValueError):
    """A parameter is unknown, not finite or outside its allowed range."""


class AudioError(DrywetError, ValueError):
    """Audio has the wrong shape, type or sample rate, or holds NaN/Inf."""


class DependencyError(DrywetError, ImportError):
    """An optional dependency is missing; the message names the pip extra to install."""


class BlackBoxError(DrywetError, RuntimeError):
    """A black-box effect (user callable or plugin) failed, or returned NaN/Inf or the wrong shape."""
