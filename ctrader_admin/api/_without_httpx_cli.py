"""Imported by the package before httpx. httpx imports its command-line tool (click, rich,
pygments: ~40 ms and ~12 MB) whenever those happen to be installed, and the app never runs it.
A None entry in sys.modules makes that one import fail, which httpx expects: it then leaves its
command line out and everything else works as before."""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
