""""Did you mean ...?" for names typed in config files, maps and commands."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, or '' when none is close."""
    near = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean '{near[0]}'?)" if near else ""
