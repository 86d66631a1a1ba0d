"""``python -m simsrc.cli``: the same as the ``simsrc`` command."""

from . import main

if __name__ == "__main__":
    main()
