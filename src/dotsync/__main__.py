"""``python -m dotsync`` runs the console script."""

from dotsync.cli import main

if __name__ == "__main__":
    main()
