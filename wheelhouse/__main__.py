"""``python -m wheelhouse``: the same program as the ``wheelhouse`` command."""

from wheelhouse.cli import main

main()
