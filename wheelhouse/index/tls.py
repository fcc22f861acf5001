"""Where the index is and how it is trusted: the default index URL and the TLS settings.

The index URL comes from ``--index-url``, else the environment, else pip's
public index. Certificates come from the bundle a variable of
:data:`CERT_VARIABLES` names, else the operating system's store.
"""

from __future__ import annotations

import os
import ssl

from pip._internal.models.index import PyPI

from wheelhouse.index.errors import IndexUnreachable

__all__ = [
    "CERT_VARIABLES",
    "default_index_url",
    "index_url_from",
    "ssl_context",
    "verified_context",
]

#: Most specific first: a bundle given for pip, then for requests, then for OpenSSL.
CERT_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


def default_index_url() -> str:
    """The public index's simple URL as pip knows it, so this repository never spells it."""
    return PyPI.simple_url


def index_url_from(option: str | None) -> str:
    """The index URL: ``--index-url``, else ``WHEELHOUSE_INDEX_URL``, ``PIP_INDEX_URL``, pip's."""
    candidates = (option, os.environ.get("WHEELHOUSE_INDEX_URL"), os.environ.get("PIP_INDEX_URL"))
    return next((url for url in candidates if url), None) or default_index_url()


def ssl_context() -> ssl.SSLContext:
    """Verify TLS with the bundle a variable of :data:`CERT_VARIABLES` names, else the OS store.

    ``ssl.create_default_context()`` loads the system's certificates, which is
    what a corporate proxy's users have configured (certifi's bundle is not).
    """
    for variable in CERT_VARIABLES:
        path = os.environ.get(variable)
        if path and os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        if path:
            return ssl.create_default_context(cafile=path)
    return ssl.create_default_context()


def verified_context(index_url: str) -> ssl.SSLContext:
    """:func:`ssl_context`, or :class:`IndexUnreachable` naming ``index_url`` when a
    certificate bundle cannot be loaded."""
    try:
        return ssl_context()
    except OSError as exc:
        names = ", ".join(CERT_VARIABLES)
        reason = f"cannot load the certificates {names} name: {exc}"
        raise IndexUnreachable(index_url, reason) from None
