"""``python -m netwatch``: the same command as ``netwatch``."""

from netwatch.cli import main

main()
