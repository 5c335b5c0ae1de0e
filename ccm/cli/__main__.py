"""``python -m ccm.cli``: the same as the ``ccm`` command."""

from ccm.cli import main

main()
