"""Console entry point ``shuangtan``: see ``engine/cli/`` for the commands."""

from engine.cli import main

if __name__ == "__main__":
    main()
