"""Entry script for the PyInstaller build: the same `main` as the `vdi-console` command."""
import multiprocessing
import sys

if __name__ == "__main__":
    # First of all: in the frozen build, the WinRM worker processes (spawned) start this executable;
    # freeze_support runs the worker there and exits before the console is imported.
    multiprocessing.freeze_support()
    from console.app import main
    sys.exit(main())
