"""``python -m ferrule.core.cli``: the same as the ``ferrule`` console script."""

from . import main

main()
