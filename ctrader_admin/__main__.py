"""``python -m ctrader_admin`` and the ``ctrader-admin`` script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    # Imported here so that ``--version`` and the GUI's first window pay only for what they use.
    from ctrader_admin.cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
