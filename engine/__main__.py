"""``python -m engine``: the ``shuangtan`` command line."""

from engine.cli import main

if __name__ == "__main__":
    main(prog_name="shuangtan")
