"""Build offline wheelhouse mirrors and install strictly from them."""

__version__ = "0.1.0"
__all__ = ["__version__"]
