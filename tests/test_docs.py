"""The user docs: docs/programs.md's examples are programs the firmware accepts, its presets are
the firmware's and every field is described; docs/boards.md names the board files that exist;
every `retrowalk COMMAND` the docs show is a command; the README links both pages."""

import json
import re
from pathlib import Path

import pytest

from retrowalk.firmware import program as P

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "programs.md"
BOARDS_DOC = ROOT / "docs" / "boards.md"
BLOCKS = re.findall(r"```json( [\w-]+)?\n(.*?)```", DOC.read_text(), re.S)


def test_the_doc_has_examples_of_each_kind():
    progs = [json.loads(body) for _, body in BLOCKS]
    ends = {P.end_key(s) for p in progs for s in p.get("segments", [])}
    assert ends == set(P.END_KEYS)  # time-, step- and distance-based intervals
    assert any("progression" in p for p in progs) and any(p.get("mode") == "capture" for p in progs)
    assert any("repeat_add" in p.get("progression", {}) for p in progs)


@pytest.mark.parametrize("tag, body", BLOCKS, ids=[t.strip() or str(i) for i, (t, _) in enumerate(BLOCKS)])
def test_every_example_validates(tag, body):
    P.validate(json.loads(body))  # raises ValueError naming the field if not


def test_the_presets_shown_are_the_firmwares():
    shown = {tag.strip(): json.loads(body) for tag, body in BLOCKS if tag}
    assert sorted(shown) == sorted(P.PRESETS)
    for name, data in shown.items():
        start = (data.get("progression") or {}).get("start_date")
        assert P.validate(data) == P.preset(name, start), name


def test_every_field_is_described():
    text = DOC.read_text()
    for key in P._TOP_KEYS + P._SEGMENT_KEYS + P._PROGRESSION_KEYS:
        assert "`%s`" % key in text, key
    for key in P._STRIDE_KEYS:  # inside stride_m's own example
        assert '"%s": 0.' % key in text, key


def test_the_board_guide_covers_every_board_file():
    names = set(re.findall(r"`([a-z0-9_]+)` \|", BOARDS_DOC.read_text()))
    shipped = {p.stem for p in (ROOT / "boards").glob("*.json")} - {"virtual"}
    assert shipped <= names and names & shipped == shipped


def test_every_command_in_the_docs_exists():
    from retrowalk import cli

    sub = next(a for a in cli.build_parser()._actions if a.dest == "command")
    shown = re.compile(r"(?:`|^    )(?:\S*/)?retrowalk ([a-z][a-z-]*)", re.M)  # in code, not prose
    for doc in (DOC, BOARDS_DOC, ROOT / "README.md"):
        cmds = shown.findall(doc.read_text())
        assert cmds, doc
        for cmd in cmds:
            assert cmd in sub.choices, "%s: retrowalk %s" % (doc.name, cmd)


def test_the_readme_links_the_guides():
    readme = (ROOT / "README.md").read_text()
    assert "docs/boards.md" in readme and "docs/programs.md" in readme


_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}


def test_the_readmes_buzzes_are_the_firmwares():
    # "Buzzes: start (one long), ..., low flash (long and two quick), ...": every pattern, each
    # with as many pulses as haptics.PATTERNS gives it
    from retrowalk.firmware import haptics

    readme = " ".join((ROOT / "README.md").read_text().split())
    listed = re.search(r"Buzzes: (.*?)\. ", readme).group(1)
    shown = {}
    for name, words in re.findall(r"(?:, )?([a-z ]+?) \(([^)]*)\)", listed):
        parts = words.split(" and ")
        shown[name.replace("switch to ", "switch_").replace(" ", "_")] = sum(
            _COUNTS.get(p.split()[0], 1) for p in parts)
    pulses = {name: (len(ms) + 1) // 2 for name, _, ms in haptics.PATTERNS[1:]}
    assert shown == pulses


def test_the_reminder_is_described_as_the_coach_gives_it():
    from retrowalk import report, walkstats
    from retrowalk.firmware import coach

    readme = " ".join((ROOT / "README.md").read_text().split())
    programs = " ".join(DOC.read_text().split())
    assert coach._REMIND_STEPS == 30 and coach._REMIND_S == 60  # as both pages say:
    assert "at the 30th step in a row taken while paused" in readme and "at most once a minute" in readme
    assert "the paused buzz again at the 30th in a row, at most once a minute" in programs
    assert '"%s"' % report.CUE_WORDS[walkstats.REMINDER][0] in readme
