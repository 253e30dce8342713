"""The words that mark a student's printed output as cut short, shared by who writes and who reads them.

The sandbox keeps only the first part of a flood of output and ends what it kept with one
line saying so (grader/sandbox/session.py, OutputCollector.text):

    … [12,345 more bytes of output were cut; only the first 20,000 are kept]

The HTML report recognises that line to keep it in view however much more it cuts itself.
This module imports nothing, so a report can use it without loading the sandbox.
"""

from __future__ import annotations

OUTPUT_CUT_MARKER = "more bytes of output were cut"
"""The words of the sandbox's notice that no other line of its own contains."""


def is_cut_notice(line: str) -> bool:
    """Is `line` the notice the sandbox adds after output it had to cut?"""
    return line.startswith("… [") and OUTPUT_CUT_MARKER in line and line.endswith("]")
