"""yibao: Yunnan public medical insurance platform."""

__version__ = "0.1.0"
