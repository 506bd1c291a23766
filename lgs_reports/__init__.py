"""LGS Reports: the monthly executive brief of London Gift Shop."""

__version__ = "0.1.0"
