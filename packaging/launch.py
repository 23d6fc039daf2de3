"""Entry script for the PyInstaller build: the same `main` as the `vdi-console` command."""
import sys

from console.app import main

if __name__ == "__main__":
    sys.exit(main())
