"""The accuracy benchmark's own parts: matching, switch latency, derived trials."""

import json
import math

import pytest

from retrowalk import cli, evaluate as ev, imucsv, synthwalk
from retrowalk.mountings import MOUNTINGS, apply, forward_axis_of


def test_match_pairs_within_tolerance_one_to_one():
    pred = [(1.0,), (1.4,), (3.0,), (9.0,)]
    truth = [(1.1, "forward"), (2.0, "forward"), (3.45, "forward")]
    # 1.0<->1.1 and 3.0<->3.45 are within 0.5 s; 1.4 could take 1.1 too but only one may
    m = ev.match(pred, truth)
    assert m == {0: 0, 2: 2} or m == {1: 0, 2: 2}
    assert m[2] == 2 and len(m) == 2


def test_match_keeps_order_and_maximises_pairs_under_drift():
    # the detector's clock runs 0.3 s ahead by the end: nearest-first pairing would cross
    truth = [(float(i), "forward") for i in range(6)]
    pred = [(i - 0.06 * i,) for i in range(6)]
    assert ev.match(pred, truth) == {i: i for i in range(6)}
    pred = [(0.0,), (0.55,), (1.05,)]
    truth = [(0.5, "f"), (1.0, "f")]
    # three candidates, two contacts: order-preserving, as many pairs as possible, smallest error
    assert ev.match(pred, truth) == {1: 0, 2: 1}


def test_switch_latency():
    F, B = "forward", "backward"
    truth = [(i, d) for i, d in enumerate([F, F, F, B, B, B, B, F, F, F])]
    perfect = {j: d for j, (_, d) in enumerate(truth)}
    assert ev.switch_latencies(truth, perfect) == [1, 1]
    late = dict(perfect)
    late[3] = F  # first backward step called forward: recognised at the 2nd
    late[7] = B  # first forward step after called backward
    late[8] = B  # ... and the second
    assert ev.switch_latencies(truth, late) == [2, 3]
    missed = dict(perfect)
    del missed[3]  # an undetected contact cannot be called: the next detected one counts
    assert ev.switch_latencies(truth, missed) == [1, 1]
    turns = [(0, F), (1, F), (2, "turn"), (3, F)]
    assert ev.switch_latencies(turns, {0: F, 1: F, 2: B, 3: F}) == []


def test_reverse_is_an_involution_and_flips_directions():
    w = synthwalk.generate([("still", 1), ("forward", 6), ("still", 1)], seed=2)
    data = [list(s) for s in zip(*(w.cols[c] for c in ("ax", "ay", "az", "gx", "gy", "gz")))]
    tr = ev.Trial("syn", w.t, data, w.labels, [(t, d) for t, _, d in w.steps], "+x")
    rv = ev.reverse(tr)
    assert all(d == "backward" for _, d, _ in rv.steps)
    assert rv.data[0][:3] == tr.data[-1][:3] and rv.data[0][3:] == [-g for g in tr.data[-1][3:]]
    back = ev.reverse(rv)
    assert back.data == tr.data
    assert [round(t, 9) for t, _, _ in back.steps] == [round(t, 9) for t, _, _ in tr.steps]


def test_compose_cross_fades_and_gives_each_step_to_the_trial_that_weighs_more():
    # two 1 s trials at 100 Hz, each one constant value, joined with a 0.25 s (25-sample) fade:
    # the fade holds the first trial's samples 76..100 (t 0.76-1.00) mixed with the second's
    # 0..24, the second weighing (k + 1) / 26 at its sample k; its middle is k = 12 (t 0.12)
    def trial(name, value, steps):
        t = [i / 100 for i in range(101)]
        return ev.Trial(name, t, [[value] * 6 for _ in t], ["forward"] * 101,
                        [(s, "forward", True) for s in steps], "+x")

    a = trial("a", 1.0, [0.50, 0.80, 0.95])  # 0.80: k = 4, 5/26 of b; 0.95: k = 19, 20/26 of b
    b = trial("b", 3.0, [0.05, 0.20, 0.50])  # 0.05: k = 5, 6/26 of b; 0.20: k = 20, 21/26 of b
    s = ev.compose("ab", [a, b])
    assert len(s.data) == 101 + 101 - 25
    assert all(abs(s.t[i] - i / 100) < 1e-9 for i in range(len(s.t)))
    assert s.data[75][0] == 1.0 and s.data[101][0] == 3.0
    for k in range(25):  # 1 + (3 - 1) * (k + 1) / 26
        assert abs(s.data[76 + k][0] - (1.0 + 2.0 * (k + 1) / 26)) < 1e-12
    # a's 0.50 and 0.80, then b's 0.20 and 0.50 moved to start at a's 0.76
    assert [round(t, 9) for t, _, _ in s.steps] == [0.50, 0.80, 0.96, 1.26]


@pytest.mark.parametrize("name", sorted(MOUNTINGS))
def test_mountings_are_rotations(name):
    m = MOUNTINGS[name]
    for i in range(3):
        for j in range(3):
            dot = sum(m[i][k] * m[j][k] for k in range(3))
            assert math.isclose(dot, 1.0 if i == j else 0.0, abs_tol=1e-12)
    det = (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
           + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))
    assert math.isclose(det, 1.0)  # proper rotation: the sensor frame stays right-handed
    f = apply(m, [1.0, 0.0, 0.0])
    axis = forward_axis_of(m)
    assert f["xyz".index(axis[1])] * (1 if axis[0] == "+" else -1) > 0.7


def test_benchmark_runs_on_a_folder_of_recordings(tmp_path, capsys):
    d = tmp_path / "virtual-belt"
    d.mkdir()
    w = synthwalk.generate([("still", 2), ("forward", 20), ("backward", 12), ("still", 2)], seed=5)
    synthwalk.write_csv(d / "Synth_B01_Walk.csv", w)
    rows = ev.benchmark(str(tmp_path), conditions=["as recorded"], only=["front"])
    r = ev.pooled(rows[(ev.BELT_TAKES, "as recorded", "front", "axis")]).row()
    assert r["steps"] == len(w.steps)
    assert r["f1"] > 0.95 and r["dir_bal_acc"] > 0.95 and r["switch_max"] <= 2
    assert cli.main(["evaluate", str(tmp_path), "--only", "front", "--conditions", "as recorded", "--full"]) == 0
    out = capsys.readouterr().out
    assert ev.BELT_TAKES in out and "dir_bal_acc" in out


def test_detected_step_times_keep_to_the_recordings_clock_near_the_board_rate(tmp_path):
    # a file within 1 % of 104 Hz is classified as it is: its sample k is at k / 103.2 s, as
    # its annotations are; at k / 104 s a 2-minute walk's last steps came ~0.9 s early, past the
    # ±0.5 s a detection has to match its contact
    w = synthwalk.generate([("still", 2), ("forward", 120), ("still", 2)], rate_hz=103.2, seed=4)
    synthwalk.write_csv(tmp_path / "Synth_B01_Walk.csv", w)
    trial = ev.load_trial(str(tmp_path / "Synth_B01_Walk.csv"), "+x")
    assert abs(trial.rate - 103.2) < 0.01
    pred = ev.run(trial, "+x")
    m = ev.match(pred, trial.steps)
    errors = [pred[i][0] - trial.steps[j][0] for i, j in sorted(m.items())]
    assert len(m) == len(trial.steps) and max(abs(e) for e in errors) < 0.15, errors[-3:]


def test_a_detected_step_is_timed_by_its_rows_own_t():
    # The mocap takes are 104 Hz with t written to 4 decimals: 1037 rows end at 9.9615, not
    # 1036/104 = 9.961538, so a rate estimated from t is 104.0004 Hz. Timed with it, row 858
    # (t = 8.25) came out at 8.24997 s, and a contact at 8.7500, exactly 0.5 s away, fell out of
    # the tolerance (Male1_B16_WalkTrunChange: single takes F1* 92.9 -> 92.7 %).
    t = [round(k / 104, 4) for k in range(1037)]
    cols = {c: [0.0] * len(t) for c in imucsv.COLUMNS[1:]}
    rec = imucsv.Recording("take", t, cols, None)
    assert abs(rec.rate_hz - 104) > 1e-4  # the estimate is off
    assert imucsv.sample_time(rec, 104, 858) == 8.25 == t[858]
    assert ev.match([(imucsv.sample_time(rec, 104, 858), "forward", 90)], [(8.75, "forward", True)]) == {0: 0}
    # resampled (52 Hz from 104): sample s is at t[0] + s / 52
    assert imucsv.sample_time(rec, 52, 429) == 429 / 52


def test_benchmark_on_an_empty_folder_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path)]) == 2
    assert "no recordings found" in capsys.readouterr().err


@pytest.mark.parametrize("text, where", [
    ("t,foot,direction\n1.0,L,forward\nabc,R,forward\n", ":3: column t: not a number (got 'abc')"),
    ("t,foot,direction\n1.0,L,forward\n2.0,R\n", ":3: 2 fields, too few to reach column 'direction'"),
    ("t,foot,direction\n1.0,L,forward\nnan,R,forward\n", ":3: column t: not a finite number (got 'nan')"),
    ("t,foot,dir\n1.0,L,forward\n", ":1: missing column direction"),
    ("t,foot,direction,t\n1.0,L,forward,2.0\n", ":1: column t named twice"),
    (b"t,foot,direction\n1.0,L,\xff\n", ":2: not UTF-8 text (byte 0xff)"),
    # two neighbouring rows swapped: the order-keeping matcher scored the same detections lower
    ("t,foot,direction\n1.0,L,forward\n2.0,R,forward\n1.5,L,forward\n", ":4: column t: time goes back"),
    # a row pasted twice: its contact counted twice, the second copy "missed"
    ("t,foot,direction\n1.0,L,forward\n1.5,R,forward\n1.5,R,forward\n",
     ":4: columns t,foot: the same contact as line 3"),
    ("t,direction\n1.0,forward\n1.0,forward\n", ":3: column t: the same contact as line 2"),
    # 'Forward' is no direction the score knows: the contact dropped out of it
    ("t,foot,direction\n1.0,L,forward\n1.5,R,Forward\n", ":3: column direction: no such direction (got 'Forward')"),
    ("t,foot,direction\n1.0,L,forwards\n", ":2: column direction: no such direction (got 'forwards')"),
    ("t,foot,direction,foot\n1.0,L,forward,R\n", ":1: column foot named twice"),
])
def test_a_malformed_annotation_file_is_one_clear_error(tmp_path, capsys, text, where):
    # (a row with more cells than the header, e.g. a trailing comma, is read: see below)
    d = tmp_path / "virtual-belt"
    d.mkdir()
    w = synthwalk.generate([("still", 1), ("forward", 5)], seed=1)
    synthwalk.write_csv(d / "Synth_B01_Walk.csv", w)
    steps = d / "Synth_B01_Walk.steps.csv"
    steps.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert cli.main(["evaluate", str(tmp_path), "--conditions", "as recorded"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(steps) + where in err


def test_both_feet_at_one_time_and_every_direction_the_data_uses_are_read(tmp_path):
    p = tmp_path / "x.steps.csv"
    p.write_text("t,foot,direction\n1.0,L,forward\n1.0,R,backward\n1.5,L,turn\n2.0,R,other\n2.5,L,still\n")
    assert ev._read_steps(str(p)) == [(1.0, "forward"), (1.0, "backward"), (1.5, "turn"), (2.0, "other"),
                                      (2.5, "still")]


def test_annotations_outside_the_recording_are_dropped_at_either_end(tmp_path):
    # the recording's t starts at 10 s; contacts before 10 s or after its last row were taken
    # while the trunk sensor was off: none can be detected, at either end
    w = synthwalk.generate([("still", 2), ("forward", 6)], seed=2)
    rec = tmp_path / "w.csv"
    synthwalk.write_csv(rec, w)
    lines = rec.read_text().splitlines()
    shifted = [lines[0]] + ["%.4f,%s" % (float(r.split(",", 1)[0]) + 10, r.split(",", 1)[1]) for r in lines[1:]]
    rec.write_text("\n".join(shifted) + "\n")
    end = float(shifted[-1].split(",")[0])
    (tmp_path / "w.steps.csv").write_text("t,foot,direction\n9.6,L,forward\n11.0,R,forward\n%.4f,L,forward\n"
                                          % (end + 0.3))
    trial = ev.load_trial(str(tmp_path / "w.csv"), "+x")
    assert [(round(t, 6), d) for t, d, _ in trial.steps] == [(1.0, "forward")]


def test_an_annotation_row_with_a_trailing_comma_is_read(tmp_path):
    p = tmp_path / "x.steps.csv"
    p.write_text("t,foot,direction\r\n1.5,L,forward,\r\n\r\n2.25,R,backward\r\n")
    assert ev._read_steps(str(p)) == [(1.5, "forward"), (2.25, "backward")]


def test_an_annotation_file_with_a_byte_order_mark_is_read(tmp_path):
    p = tmp_path / "x.steps.csv"
    p.write_bytes(b"\xef\xbb\xbft,foot,direction\n1.5,L,forward\n")
    assert ev._read_steps(str(p)) == [(1.5, "forward")]


@pytest.mark.parametrize("names", ["", " ", "as recorded,,52 Hz"])
def test_an_empty_condition_name_is_an_error_not_every_condition(tmp_path, capsys, names):
    d = tmp_path / "virtual-belt"
    d.mkdir()
    synthwalk.write_csv(d / "Synth_B01_Walk.csv", synthwalk.generate([("still", 1), ("forward", 4)], seed=1))
    assert cli.main(["evaluate", str(tmp_path), "--conditions", names]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "retrowalk: --conditions %r: an empty condition name (choose from %s)\n" % (
        names, ", ".join(ev.CONDITIONS))


def test_the_workers_leave_ctrl_c_to_the_parent(tmp_path, monkeypatch):
    # Ctrl-C reaches every process of the terminal's group: a worker that took it printed a
    # "Process ForkPoolWorker-N:" traceback before the parent's one "retrowalk: interrupted"
    import signal

    d = tmp_path / "virtual-belt"
    d.mkdir()
    synthwalk.write_csv(d / "Synth_B01_Walk.csv", synthwalk.generate([("still", 1), ("forward", 4)], seed=1))

    def ctrl_c_in_the_worker(self, unit):  # (the forked workers run this: it says how they take Ctrl-C)
        how = "ignored" if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else "taken"
        return [((ev.BELT_TAKES, unit[1], how, "axis"), "s", ev.Score())]

    monkeypatch.setattr(ev.Bench, "run_unit", ctrl_c_in_the_worker)
    parent = signal.getsignal(signal.SIGINT)
    rows = ev.benchmark(str(tmp_path), conditions=["as recorded", "52 Hz"], jobs=2)
    assert {k[2] for k in rows} == {"ignored"}
    assert signal.getsignal(signal.SIGINT) is parent  # the parent still takes it


def test_json_output_is_strict_json(tmp_path, capsys):
    # a forward-only take has no backward steps: its backward recall is no number, and strict
    # JSON (jq, JavaScript) has no NaN; it is null
    d = tmp_path / "virtual-belt"
    d.mkdir()
    w = synthwalk.generate([("still", 1), ("forward", 10), ("still", 1)], seed=3)
    synthwalk.write_csv(d / "Synth_B01_Walk.csv", w)
    assert cli.main(["evaluate", str(tmp_path), "--conditions", "as recorded", "--only", "front", "--json"]) == 0

    def no_constants(name):
        raise AssertionError("not strict JSON: " + name)

    out = json.loads(capsys.readouterr().out, parse_constant=no_constants)
    row = out["%s | as recorded | front | axis" % ev.BELT_TAKES]["pooled"]
    assert row["bwd_recall"] is None and row["steps"] == len(w.steps)


def _still_trial(steps, seconds=6.0, label="still"):
    """A 100 Hz trial standing still (labelled `label`), with the given (t, direction, moving) contacts."""
    t = [i / 100 for i in range(int(seconds * 100) + 1)]
    return ev.Trial("s", t, [[0.0, 0.0, 9.81, 0.0, 0.0, 0.0] for _ in t], [label] * len(t), steps, "+x")


def test_still_steps_are_those_with_no_annotated_contact_near():
    # the contact at 2.0 is matched by the step at 1.9; the step at 2.3 is a second, false step
    # for it (0.3 s away: near), the one at 4.0 has no contact within 0.5 s: one standing step
    tr = _still_trial([(2.0, "forward", True)])
    sc = ev.Score()
    sc.add(tr, [(1.9, "forward", 50), (2.3, "forward", 50), (4.0, "forward", 50)])
    r = sc.row()
    assert r["still_steps"] == 1
    assert sc.tp == 1 and sc.pred == 3  # the step at 2.3 is still a false step


def test_a_step_between_a_contact_that_counts_and_one_that_does_not_pairs_with_the_one_that_counts():
    # Male1_B24_WalkToCrouch as recorded: a step at 4.94 s, 0.24 s after a forward contact and
    # 0.21 s before one annotated `still` (no step to find); pairing it with the nearer left the
    # forward contact missed: F1* 0 where one step found the one contact to find (F1* 1)
    tr = _still_trial([(4.70, "forward", True), (5.15, "still", True)], label="forward")
    sc = ev.Score()
    sc.add(tr, [(4.94, "forward", 50)])
    r = sc.row()
    assert (sc.tp, sc.truth, sc.pred) == (1, 1, 1) and r["f1"] == 1.0 and r["recall_all"] == 1.0
    assert sc.fwd == 1 and sc.fwd_ok == 1
    # a contact the trunk does not show (moving False) counts only for recall (all): the step
    # pairs with the one that counts for F1* as well
    tr = _still_trial([(0.80, "forward", False), (1.25, "forward", True)], label="forward")
    sc = ev.Score()
    sc.add(tr, [(1.0, "forward", 50)])
    assert (sc.tp, sc.truth, sc.pred) == (1, 1, 1) and (sc.tp_all, sc.truth_all, sc.pred_all) == (1, 2, 1)
    # but never at the cost of a pair: 1.0 takes the `other` contact at 0.6 (neither right nor
    # wrong) so that 1.6 can take the forward one at 1.2: F1* 2*1 / (1 + 1) = 1; with 1.0 on 1.2,
    # 1.6 would be a false step: 2*1 / (1 + 2)
    tr = _still_trial([(0.6, "other", True), (1.2, "forward", True)], label="forward")
    sc = ev.Score()
    sc.add(tr, [(1.0, "forward", 50), (1.6, "forward", 50)])
    assert (sc.tp, sc.truth, sc.pred) == (1, 1, 1) and sc.row()["f1"] == 1.0


def test_a_subject_with_no_step_found_is_f1_zero_and_the_worst():
    # s1: 3 contacts, 3 steps found; s2: 2 contacts, no step found: its F1 is 2*0 / (2 + 0) = 0,
    # no missing figure that the mean and the worst subject pass over
    found, none = ev.Score(), ev.Score()
    found.add(_still_trial([(1.0, "forward", True), (1.5, "forward", True), (2.0, "forward", True)],
                           label="forward"), [(1.0, "forward", 50), (1.5, "forward", 50), (2.0, "forward", 50)])
    none.add(_still_trial([(1.0, "forward", True), (1.5, "forward", True)], label="forward"), [])
    assert none.row()["f1"] == 0.0 and none.row()["recall"] == 0.0 and none.row()["count_err"] == -1.0
    rows = {(ev.L5_FWD, "as recorded", "as worn", "auto"): {"L5 s1": found, "L5 s2": none},
            (ev.L5_FWD, "as recorded", "as worn", "axis"): {"L5 s2": none}}
    fig = ev.summarise(rows)[(ev.L5_FWD, "as recorded")]
    assert fig["worst_f1"] == (0.0, "L5 s2 as worn/auto")
    # pooled auto: 2*3 / (5 + 3) = 0.75; axis: 0; their mean 0.375
    assert fig["f1"] == pytest.approx(0.375)
