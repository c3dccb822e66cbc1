"""The `retrowalk` command: a thin argparse layer over the library modules."""

import argparse
import contextlib
import difflib
import json
import os
import re
import shlex
import sys
from pathlib import Path

from . import __version__
from .errors import RetrowalkError, check_not_empty
from .words import plural


def do_replay(args):
    from . import replay

    return replay.main(args)


def do_evaluate(args):
    from . import evaluate

    return evaluate.main(args)


# -- board commands ----------------------------------------------------------------------------
def _port(port):
    """The board's port: `port` if it exists, else the only board plugged in; RetrowalkError otherwise."""
    from .link import find_port, list_ports

    if port and port.startswith("/") and not os.path.exists(port):
        ports = list_ports()
        raise RetrowalkError("no such port %s" % port, hint="boards plugged in: %s" % ", ".join(
            p for p, _ in ports) if ports else "no board is plugged in; `retrowalk doctor` checks each step")
    return find_port(port)


@contextlib.contextmanager
def _board(port):
    """A Link to the board (found when `port` is None); the board's app runs again afterwards."""
    from .link import Link

    link = Link(_port(port))
    link.open()
    try:
        yield link
    finally:
        link.close(run_app=True)


def _same_file(a, b):
    """Paths a and b name one file (a link to it included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def _history(args, create=False):
    """The walk history of --db; only the commands that add walks (create) may make a new one.
    A command's -o FILE may not be the history itself (writing it would destroy every walk)."""
    from .history import History

    out = getattr(args, "output", None)
    hist = History(args.db, create=create)
    if out not in (None, "-") and _same_file(out, hist.path):
        hist.close()
        raise RetrowalkError("-o %s: that is the walk history itself" % out,
                             hint="name another file to write to")
    return hist


def _print_json(data):
    print(json.dumps(data, indent=1, sort_keys=True))


def do_flash(args):
    from . import flasher, programs
    from .progress import Bar

    program = programs.load(args.program) if args.program else None
    if args.board is not None:
        flasher.board_file(args.board)  # a bad name fails before the board is touched
    port = _port(args.port)
    with Bar("flashing") as bar:
        flasher.flash(port=port, board=args.board, program=program, source=args.source,
                      set_clock=not args.no_clock, progress=bar, say=lambda s: (bar.close(), print(s)))


def _pull(args, kinds=("walk", "capture")):
    from . import pull
    from .progress import Bar

    with _board(args.port) as link, _history(args, create=True) as hist:  # no history made for no board
        with Bar("pulling") as bar:
            res = pull.pull(link, hist, kinds=kinds, delete=not args.keep, progress=bar)
        pull.set_clock(link, res)
    return res


def _pull_lines(res):
    kinds = [k for _, _, k in res.stored]
    lines = ["pulled %s and %s from board %s%s" % (
        plural(kinds.count("walk"), "walk"), plural(kinds.count("capture"), "capture"), res.uid,
        "; %d already in the history" % len(res.known) if res.known else "")]
    bad = kinds.count("unreadable")
    if bad:
        lines.append("%s kept as %s came" % (plural(bad, "unreadable file"), "it" if bad == 1 else "they"))
    for name, why in res.skipped:
        lines.append("left on the board: %s: %s" % (name, why))
    for w in res.warnings:
        lines.append("warning: %s" % w)
    return lines


def do_pull(args):
    res = _pull(args)
    if args.json:
        _print_json(res.as_dict())
    else:
        print("\n".join(_pull_lines(res)))
    return 1 if res.skipped else 0


def do_status(args):
    from . import boardstatus

    port = _port(args.port)
    with _board(port) as link:
        info = boardstatus.read_status(link, port)
    found = boardstatus.problems(info)
    if args.json:
        _print_json(dict(info, problems=[{"problem": p, "hint": h} for p, h in found]))
    else:
        print("\n".join(boardstatus.status_lines(info, found)))
    return 1 if found else 0


def do_doctor(args):
    from . import doctor

    found = doctor.run(port=args.port, board=args.board)
    if args.json:
        _print_json(doctor.as_json(found))
    else:
        print("\n".join(doctor.lines(found)))
    return 0 if all(c.ok is not False for c in found) else 1


def _told(path):
    """Say the path of a file a command wrote (not when it is the file standard output goes to:
    the line would land over the file's first bytes)."""
    from . import outfile

    if not outfile.is_stdout(path):
        print(path)


def do_program(args):
    from . import programs
    from .untrusted import shown

    if args.action == "show":
        if args.file:
            prog, note = programs.load(args.file), None
        else:
            with _board(args.port) as link:
                prog, note = programs.on_board(link)
        if args.json:
            _print_json({"program": prog, "note": note})
            return
        if note:
            print(note)
        print("\n".join(shown(ln) for ln in programs.describe(prog)))  # (its name may come from the board)
        return
    if args.action == "preset" and not args.name:
        if args.output is not None or args.start is not None:
            raise RetrowalkError("program preset %s: which preset?" % ("-o" if args.output is not None else "--start"),
                                 hint="name one: %s" % ", ".join(sorted(programs.P.PRESETS)))
        print("\n".join(programs.preset_lines()))
        return
    prog = programs.load(args.file) if args.action == "set" else programs.preset(args.name, args.start)
    if args.action == "preset" and args.output is not None:
        from . import outfile

        with outfile.replacing(args.output) as name:
            Path(name).write_bytes(programs.file_bytes(prog))
        _told(args.output)
        return
    with _board(args.port) as link:
        programs.send(link, prog)
    print("sent to the board:")
    print("\n".join("  " + ln for ln in programs.describe(prog)))


# -- history commands --------------------------------------------------------------------------
def do_walks(args):
    from . import report

    with _history(args) as hist:
        items = report.listed_measures(hist)
    if args.json:
        _print_json([dict(m or {}, id=row["id"], board=row["board_uid"], file=row["file_name"],
                          readable=m is not None) for row, m in items])
    else:
        print("\n".join(report.walks_table(items)))


def do_report(args):
    from . import exporter, report

    if args.walk is not None and (args.week or args.all):
        flag = "--week" if args.week else "--all"
        raise RetrowalkError("walk %d and %s: report gives one walk or %s, not both" % (
            args.walk, flag, "the latest week" if args.week else "every week"),
            hint="retrowalk report %d, or retrowalk report %s" % (args.walk, flag))
    with _history(args) as hist:
        if args.html:
            from . import htmlreport

            page, name = htmlreport.from_history(hist, args.walk, week=args.week, every=args.all)
            path = exporter.write_text(args.output or name, page)
            if path is None:  # -o -: the page itself
                sys.stdout.write(page)
            else:
                _told(path)
            return
        if args.week or args.all:
            items = report.walk_measures(hist)
            lines, data = report.all_report(items) if args.all else report.week_report(items)
        else:
            row, m, _ = report.one_walk(hist, args.walk)
            lines, data = report.walk_report(row, m), dict(m, id=row["id"], board=row["board_uid"])
    text = json.dumps(data, indent=1, sort_keys=True) + "\n" if args.json else "\n".join(lines) + "\n"
    if exporter.write_text(args.output, text) is None:
        sys.stdout.write(text)
    else:
        _told(args.output)


def do_plot(args):
    from . import plots, report, walkstats

    if args.walk is not None and args.weeks:
        raise RetrowalkError("walk %d and --weeks: plot draws one walk or the weekly progress, not both" % args.walk,
                             hint="retrowalk plot %d, or retrowalk plot --weeks" % args.walk)
    with _history(args) as hist:
        if args.weeks:
            weeks = walkstats.weeks([m for _, m in report.walk_measures(hist) if m is not None])
            path = plots.weekly_progress(weeks, args.output or "weeks.png")
        else:
            row, m, log = report.one_walk(hist, args.walk)
            title = "Walk #%d, %s" % (row["id"], (m["start"] or row["pulled_at"]).replace("T", " ")[:16])
            path = plots.walk_timeline(log, m, args.output or "walk-%d.png" % row["id"], title=title)
    _told(path)


def do_export(args):
    from . import exporter

    with _history(args) as hist:  # (the JSON is written a walk at a time, while the history is open)
        text = exporter.walks_csv(hist) if args.csv else exporter.walks_json_text(hist)
        if exporter.write_text(args.output, text) is None:
            for piece in exporter.pieces(text):
                sys.stdout.write(piece)
            return
    _told(args.output)


def _check_folder(out):
    """RetrowalkError unless folder `out` is one, or could be made (each part of its path that
    exists is a folder)."""
    p = out
    while not p.exists() and p.parent != p:
        p = p.parent
    if p.exists() and not p.is_dir():
        raise RetrowalkError("-o %s: %s is not a folder" % (out, p) if p != out else "%s: not a folder" % out,
                             hint="name a folder for the CSV files with -o")


def do_capture(args):
    from . import exporter
    from .untrusted import shown

    if args.action == "list":
        with _history(args) as hist:
            rows = exporter.capture_rows(hist)
        if args.json:
            _print_json(rows)
            return
        print("%4s  %-16s  %-6s  %8s  %6s  %s" % ("id", "start", "board", "samples", "s", "label"))
        for r in rows:
            print("%4d  %-16s  %-6s  %8d  %6s  %s" % (r["id"], (r["start"] or r["pulled_at"]).replace("T", " ")[:16],
                                                    r["board"][:6], r["samples"], r["seconds"], shown(r["label"])))
        if not rows:
            print("(no captures: retrowalk capture pull brings them from the board)")
        return
    ids = None
    out = Path(args.output)
    _check_folder(out)  # before the pull: a pull deletes the captures from the board
    if not args.all:
        res = _pull(args, kinds=("capture",))
        print("\n".join(_pull_lines(res)))
        ids = [i for _, i, k in res.stored if k == "capture"] + res.known_ids  # (the history holds their kind)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RetrowalkError("-o %s: cannot make the folder: %s" % (out, e.strerror or e),
                             hint="the captures are in the history: retrowalk capture pull --all -o DIR"
                             " writes them" if not args.all else "name a folder for the CSV files with -o") from None
    failed = 0
    with _history(args) as hist:
        for row in hist.logs(kind="capture", ids=ids):
            stem = out / ("capture-%d-%s-%s" % (row["id"], row["board_uid"][:8], row["file_name"][:6]))
            try:
                for p in exporter.write_capture_csv(hist.data(row["id"]), stem):
                    print(p)
            except RetrowalkError as e:  # the others are still written
                print("capture #%d: %s" % (row["id"], e), file=sys.stderr)
                failed += 1
    return 1 if failed else 0


# -- no-board commands -------------------------------------------------------------------------
def do_demo(args):
    from . import demo

    demo.run(workdir=args.dir, speed=args.speed)


def do_start(args):
    from . import demo

    return demo.start(port=_port(args.port) if args.port else None, db=args.db)


def _add_port(p):
    p.add_argument("--port", default=None, help="the board's serial port (default: the only board plugged in)")


def _add_db(p):
    p.add_argument("--db", default=os.environ.get("RETROWALK_DB") or None,  # (set but empty: as unset)
                   help="history file (default: $RETROWALK_DB, else history.sqlite in your data directory)")


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one stderr line (like every other retrowalk error), exit 2,
    and a "did you mean" for a mistyped command (main's _unrecognized and _before_command tell
    about options)."""

    def error(self, message):
        m = re.match(r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.*)\)", message)
        if m:
            what, typed, choices = m.group(1), m.group(2), [c.strip("' ") for c in m.group(3).split(",")]
            message = "unknown %s %r" % (what.lower(), typed) if what.isupper() else "%s: unknown choice %r" % (
                what, typed)
            near = difflib.get_close_matches(typed, choices, n=1, cutoff=0.6)
            message += "; did you mean %s?" % near[0] if near else "; choose from %s" % ", ".join(choices)
        self.exit(2, "retrowalk: %s (see %s --help)\n" % (message, self.prog))


_OPTIONS = []  # every option string of every command, for "did you mean" (filled by build_parser)


def _subcommands(p):
    """Parser p's commands (or a command's actions): {name: parser}, {} for none."""
    return next((a.choices for a in p._actions if isinstance(a, argparse._SubParsersAction)), {})


def _options(p):
    """Parser p's own option strings."""
    return {o for a in p._actions for o in a.option_strings}


def _valued(p):
    """Option strings that take a value, in parser p or any command under it."""
    out = {o for a in p._actions if a.nargs != 0 for o in a.option_strings}
    for sub in _subcommands(p).values():
        out |= _valued(sub)
    return out


def _before_command(parser, argv):
    """(message, parser) for options of a command put before its name, where argparse takes
    them for the top level's (`retrowalk --json walks`, `retrowalk capture --json list`); None
    when there are none."""
    p, words, moved, at = parser, [], [], 0
    valued = _valued(parser)
    while _subcommands(p):
        subs = _subcommands(p)
        # (a command's name given as an option's value, `--db walks`, is no command word)
        i = next((k for k in range(at, len(argv)) if argv[k] in subs and not (k > at and argv[k - 1] in valued)),
                 None)
        if i is None or (i > at and (not argv[at].startswith("-") or argv[at].split("=")[0] in _options(p))):
            break  # no command word, or what comes before it is no option or the parser's own (-h, --version)
        moved += argv[at:i]
        words.append(argv[i])
        p, at = subs[argv[i]], i + 1
    if not moved or any(a.startswith("-") and a.split("=")[0] not in _options(p) for a in moved):
        return None  # (an option the command has not either: told as unrecognized)
    return "%s is before the command; options go after it, as in: retrowalk %s" % (
        " ".join(moved), " ".join(shlex.quote(a) for a in words + moved + argv[at:])), p


def _unrecognized(parser, args, extra):
    """The usage error for `extra`, arguments the command has no place for: with the option of
    this command that was meant, or that the option is another command's."""
    message = "unrecognized arguments: %s" % " ".join(extra)
    typed = extra[0].split("=")[0]
    if not typed.startswith("-") or typed == "--":
        return message
    p = parser
    for name in (getattr(args, "command", None), getattr(args, "action", None)):
        p = _subcommands(p).get(name, p)
    if p is parser:  # no command: any command's option may be meant
        near = difflib.get_close_matches(typed, _OPTIONS, n=1, cutoff=0.6)
        if typed in _OPTIONS:
            return message + "; options go after the command, as in: retrowalk COMMAND %s" % extra[0]
        return message + ("; did you mean %s?" % near[0] if near else "")
    # another command's option is taken for a slip only when nearly the same (--weeks for report's
    # --week), not when they share a few letters (--json and replay's --mount)
    near = difflib.get_close_matches(typed, sorted(_options(p)), n=1, cutoff=0.8 if typed in _OPTIONS else 0.6)
    if near:
        return message + "; did you mean %s?" % near[0]
    if typed in _OPTIONS:
        return message + "; this command has no %s" % typed
    return message


EXIT_STATUS = ("exit status: 0 done; 1 done, but something needs attention (status, doctor or start found a "
               "problem on the board, pull left a file on it, a capture could not be written); 2 an expected "
               "failure, told in one line on stderr (under --json also as {\"error\", \"hint\"} on stdout); "
               "130 interrupted")


def build_parser():
    """The argument parser for every sub-command."""
    p = _Parser(prog="retrowalk", description="Retro-walking coach: board and laptop tools.", epilog=EXIT_STATUS)
    p.add_argument("--version", action="version", version="retrowalk " + __version__)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = False

    s = sub.add_parser("start", help="the main job: with a board plugged in, status + pull + report; "
                                     "without one, the demo (also what plain `retrowalk` does)")
    _add_port(s)
    _add_db(s)
    s.set_defaults(func=do_start)

    f = sub.add_parser("flash", help="install the firmware, board file and program on a board")
    f.add_argument("--board", default=None, help="board file name from boards/ (or a JSON file); "
                                                 "needed the first time")
    _add_port(f)
    f.add_argument("--program", default=None, metavar="FILE", help="program JSON file to install too")
    f.add_argument("--source", action="store_true", help="install .py sources instead of compiled .mpy")
    f.add_argument("--no-clock", action="store_true", help="leave the board's clock as it is")
    f.set_defaults(func=do_flash)

    pl = sub.add_parser("pull", help="bring finished walks and captures home; delete them from the board "
                                     "once stored")
    _add_port(pl)
    _add_db(pl)
    pl.add_argument("--keep", action="store_true", help="leave the logs on the board")
    pl.add_argument("--json", action="store_true", help="machine-readable output")
    pl.set_defaults(func=do_pull)

    st = sub.add_parser("status", help="what the board runs, and any problem with a hint (exit 1 when there is one)")
    _add_port(st)
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=do_status)

    dr = sub.add_parser("doctor", help="check each step to a board ready to walk (port, MicroPython, firmware, "
                                       "IMU, clock, flash, program), each with its next step; exit 0 when all pass")
    _add_port(dr)
    dr.add_argument("--board", default=None, help="board file (name from boards/ or a JSON file) to compare the "
                                                  "board with (default: the one on the board)")
    dr.add_argument("--json", action="store_true", help="machine-readable output")
    dr.set_defaults(func=do_doctor)

    pr = sub.add_parser("program", help="show, set or choose the board's interval program")
    prs = pr.add_subparsers(dest="action", metavar="ACTION")
    prs.required = True
    a = prs.add_parser("show", help="describe the board's program (or a program FILE)")
    a.add_argument("file", nargs="?", metavar="FILE")
    _add_port(a)
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a = prs.add_parser("set", help="check a program FILE and send it to the board")
    a.add_argument("file", metavar="FILE")
    _add_port(a)
    a = prs.add_parser("preset", help="send a preset program (without NAME: list the presets)")
    a.add_argument("name", nargs="?", metavar="NAME")
    a.add_argument("--start", default=None, metavar="DATE", help="YYYY-MM-DD the program starts (growing presets)")
    a.add_argument("-o", "--output", default=None, metavar="FILE", help="write the program to FILE instead")
    _add_port(a)
    pr.set_defaults(func=do_program)

    w = sub.add_parser("walks", help="list the walks in the history")
    _add_db(w)
    w.add_argument("--json", action="store_true", help="machine-readable output")
    w.set_defaults(func=do_walks)

    r = sub.add_parser("report", help="one walk (default: the latest), the latest week, or every week")
    r.add_argument("walk", nargs="?", type=int, metavar="WALK", help="walk id from `retrowalk walks`")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--week", action="store_true", help="the latest week with walks, against the week before")
    g.add_argument("--all", action="store_true", help="every week, with the change from the week before")
    _add_db(r)
    g = r.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="machine-readable output")
    g.add_argument("--html", action="store_true", help="one self-contained HTML page with the plots, to open, "
                                                       "print or send (default file: walk-ID.html, week-W.html "
                                                       "or weeks.html)")
    r.add_argument("-o", "--output", default=None, metavar="FILE", help="write the report to FILE")
    r.set_defaults(func=do_report)

    pt = sub.add_parser("plot", help="a figure (PNG, SVG or PDF) of a walk (default: the latest) or of the weekly progress")
    pt.add_argument("walk", nargs="?", type=int, metavar="WALK")
    pt.add_argument("--weeks", action="store_true", help="weekly progress instead of one walk")
    pt.add_argument("-o", "--output", default=None, metavar="FILE.png",
                    help="the figure's file: .png, .svg or .pdf (default: walk-N.png or weeks.png)")
    _add_db(pt)
    pt.set_defaults(func=do_plot)

    e = sub.add_parser("export", help="every walk's measures as CSV, or everything as JSON (also the logs kept "
                                      "unreadable)")
    g = e.add_mutually_exclusive_group(required=True)
    g.add_argument("--csv", action="store_true", help="one row of measures per walk read (a log kept unreadable has "
                                                      "none: --json and walks list it)")
    g.add_argument("--json", action="store_true", help="measures, header and every record of each walk, and each "
                                                       "log kept unreadable with its error")
    e.add_argument("-o", "--output", default=None, metavar="FILE", help="write to FILE (default: stdout)")
    _add_db(e)
    e.set_defaults(func=do_export)

    c = sub.add_parser("capture", help="raw IMU captures: list them, or pull them as canonical CSV")
    cs = c.add_subparsers(dest="action", metavar="ACTION")
    cs.required = True
    a = cs.add_parser("list", help="captures in the history")
    _add_db(a)
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a = cs.add_parser("pull", help="pull captures from the board and write each as canonical CSV")
    _add_port(a)
    _add_db(a)
    a.add_argument("-o", "--output", default=".", metavar="DIR", help="folder for the CSV files (default: .)")
    a.add_argument("--all", action="store_true", help="no pull: write every capture in the history")
    a.add_argument("--keep", action="store_true", help="leave the captures on the board")
    c.set_defaults(func=do_capture)

    d = sub.add_parser("demo", help="no board needed: a virtual board walks an example, then pull, report, plot")
    d.add_argument("--dir", default=None, help="work folder (default: retrowalk's cache folder)")
    d.add_argument("--speed", type=float, default=None, help="simulated seconds per real second (0.001 to 200; "
                                                             "default 25)")
    d.set_defaults(func=do_demo)

    rp = sub.add_parser("replay", help="run a recorded IMU CSV through the board's step classifier")
    rp.add_argument("csv", metavar="FILE.csv")
    rp.add_argument("--mount", default="auto", help="auto (learn at the warm-up) or the forward axis, e.g. +x, -z")
    rp.add_argument("--engine", choices=("cpython", "micropython"), default="cpython")
    rp.add_argument("--rate", type=int, default=None, help="resample to this rate (Hz) before replay: 104, 52 or 26")
    rp.set_defaults(func=do_replay)

    ev = sub.add_parser("evaluate", help="score the step classifier against annotated recordings")
    ev.add_argument("data", metavar="DIR", nargs="+",
                    help="folder holding real-l5-forward/ and virtual-belt/ (../shared/data)")
    ev.add_argument("--rate", type=int, default=104, choices=(104, 52, 26), help="board sample rate to simulate (Hz)")
    ev.add_argument("--only", action="append", help="only rows whose data set/condition/mounting contains this text")
    ev.add_argument("--conditions", metavar="A,B", help="only these conditions, comma-separated (default: all;"
                    " 'as recorded' alone is the quick check; a wrong name lists them)")
    ev.add_argument("--full", action="store_true", help="the full table: every mounting and mode, pooled over subjects")
    ev.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ev.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a terminal")
    ev.add_argument("--json", action="store_true", help="machine-readable output, per subject")
    ev.set_defaults(func=do_evaluate)
    _OPTIONS[:] = sorted({o for sp in [p] + list(sub.choices.values()) + [
        a for sp2 in sub.choices.values() for act in sp2._actions if isinstance(act, argparse._SubParsersAction)
        for a in act.choices.values()] for act in sp._actions for o in act.option_strings})
    return p


def _joined_axes(argv):
    """argv with `--mount -z` as `--mount=-z`: argparse takes a value that starts with '-' for
    an option of its own."""
    out = []
    for a in argv:
        if out and out[-1] == "--mount" and a in ("-x", "-y", "-z"):
            out[-1] = "--mount=" + a
        else:
            out.append(a)
    return out


def main(argv=None):
    """Entry point; returns the process exit status (0 ok, 2 expected failure)."""
    argv = _joined_axes(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser()
    before = _before_command(parser, argv)
    if before:
        before[1].error(before[0])
    args, extra = parser.parse_known_args(argv or ["start"])
    if extra:  # as parse_args would say it, pointing at the command's own --help
        cmd = " ".join(x for x in (getattr(args, "command", None), getattr(args, "action", None)) if x)
        parser.prog = "retrowalk " + cmd if cmd else parser.prog
        parser.error(_unrecognized(parser, args, extra))
    if getattr(args, "func", None) is None:
        args = build_parser().parse_args(["start"])
    stdout = sys.stdout
    sys.stdout = _Output(stdout)
    try:
        if stdout is None:  # (file descriptor 1 closed: Python has no sys.stdout; a file opened now would take it)
            raise _OutputError("cannot write the output: standard output is closed",
                               hint="send it to a file, or to /dev/null, instead of closing it")
        what = "folder" if args.command == "capture" else "file"
        check_not_empty(getattr(args, "output", None), "-o", what, "name the %s to write to%s" % (
            what, "" if args.command == "program" else ", or leave -o out"))  # (program preset: to the board)
        if hasattr(args, "db"):  # (before a pull looks for the board)
            from .history import check_name
            check_name(args.db)
        code = args.func(args) or 0
        sys.stdout.flush()  # (a full disk under a redirected output fails here, not at exit)
        return code
    except _OutputError as e:
        stdout = open(os.devnull, "w")  # nothing more can go there, at exit either
        print(e.line(), file=sys.stderr)
        return 2
    except RetrowalkError as e:
        if getattr(args, "json", False):  # scripts reading the JSON get the error there too
            try:
                _print_json({"error": str(e), "hint": e.hint})
                sys.stdout.flush()
            except (_OutputError, BrokenPipeError):  # (no one reads it there: the line on stderr still tells it)
                stdout = open(os.devnull, "w")  # nothing more can go there, at exit either
        print(e.line(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("retrowalk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        stdout = open(os.devnull, "w")
        return 0
    finally:
        sys.stdout = stdout


class _OutputError(RetrowalkError):
    """Standard output took no more (a full disk, a terminal gone)."""


class _Output:
    """sys.stdout while a command runs: a failed write is one _OutputError, not a traceback."""

    def __init__(self, f):
        self._f = f

    def write(self, text):
        return self._do(self._f.write, text)

    def flush(self):
        return self._do(self._f.flush)

    def _do(self, fn, *args):
        try:
            return fn(*args)
        except BrokenPipeError:  # (main's own case: a reader that stopped)
            raise
        except OSError as e:
            raise _OutputError("cannot write the output: %s" % (e.strerror or e)) from None
        except UnicodeEncodeError as e:  # a name beyond ASCII, say, under a locale that is not UTF-8
            raise _OutputError("cannot write the output: %r is not in its encoding (%s)" % (
                e.object[e.start:e.end], e.encoding), hint="set PYTHONUTF8=1, or a UTF-8 locale") from None

    def __getattr__(self, name):
        return getattr(self._f, name)


if __name__ == "__main__":
    sys.exit(main())
