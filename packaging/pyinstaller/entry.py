"""PyInstaller's entry script: the same as the ``ctrader-admin`` console script."""

import sys

from ctrader_admin.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
