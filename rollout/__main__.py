"""Run the command line with ``python -m rollout``."""

from rollout.cli import main

main()
