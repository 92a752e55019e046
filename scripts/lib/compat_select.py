"""Pytest plugin: keep only the tests whose function name matches a selection spec.

Loaded by scripts/compat-redis-py and scripts/compat-fakeredis with `-p compat_select` (this
directory on PYTHONPATH).  The spec file (env COMPAT_SELECT_SPEC) has one rule a line:

    <file suffix> <include regex> [<exclude regex>]

separated by whitespace; `#` starts a comment.  A collected test is kept when its file path ends
with a rule's suffix, its function name (without parametrization) fully matches that rule's
include regex and does not fully match its exclude regex.  Everything else is deselected, so
pytest's own summary counts only the selected tests.  Regexes, not `-k` substrings: `-k test_get`
would also pick up test_get_set_bit (GETBIT/SETBIT), which is out of scope.
"""

import os
import re


def _load_rules(path):
    rules = []
    with open(path, encoding="utf-8") as spec:
        for line in spec:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            include = re.compile(parts[1])
            exclude = re.compile(parts[2]) if len(parts) > 2 else None
            rules.append((parts[0], include, exclude))
    return rules


def _selected(item, rules):
    path = str(item.path)
    name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
    for suffix, include, exclude in rules:
        if not path.endswith(suffix) or not include.fullmatch(name):
            continue
        if exclude is None or not exclude.fullmatch(name):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    spec = os.environ.get("COMPAT_SELECT_SPEC")
    if not spec:
        return
    rules = _load_rules(spec)
    kept, dropped = [], []
    for item in items:
        (kept if _selected(item, rules) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept
