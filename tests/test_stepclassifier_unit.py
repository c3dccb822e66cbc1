"""Step classifier on CPython, fed small signals the tests build (tests/gait_signals.py)."""

import pytest

import gait_signals as gs
from retrowalk import replay

FWD, BWD = 1, 2


@pytest.fixture(scope="module")
def sc():
    from retrowalk.firmware import stepclassifier
    return stepclassifier


def _run(sc, segments, **kw):
    rate = kw.pop("rate", 104)
    forward = kw.pop("forward", None)
    counts, n, contacts = gs.build(segments, rate=rate, **kw)
    return gs.run(counts, n, rate=rate, forward=forward), contacts


def test_direction_codes(sc):
    assert (sc.FORWARD, sc.BACKWARD) == (FWD, BWD)


@pytest.mark.parametrize("kind", ["still", "sway"])
def test_no_steps_while_standing_or_swaying(sc, kind):
    events, _ = _run(sc, [(kind, 30)])
    assert events == []


@pytest.mark.parametrize("hz", [1.0, 1.8, 2.2])
def test_no_steps_while_shifting_weight_from_foot_to_foot(sc, hz):
    # the trunk rises and falls at a walking cadence and rocks sideways, but travels nowhere:
    # each candidate's cue points the other way from the one before, and no bout starts
    events, _ = _run(sc, [("still", 2), ("shift", 30), ("still", 2)], step_hz=hz)
    assert events == []


def test_weight_shifting_is_told_from_walking_by_travel(sc, monkeypatch):
    # the same signal passes the rhythm and strength checks: without the travel check the
    # start gate takes it for a walk and counts about a step per shift
    monkeypatch.setattr(sc, "_AGREE", 0)
    events, _ = _run(sc, [("still", 2), ("shift", 30), ("still", 2)])
    assert len(events) > 30


def test_counts_every_step_from_the_first(sc):
    events, contacts = _run(sc, [("still", 3), ("forward", 20), ("still", 3)])
    # one event per modelled contact: the start gate's held-back steps are credited
    assert len(events) == len(contacts)
    for (s, _, _), (c, _) in zip(events, contacts):
        assert abs(s - c) <= 0.1 * 104  # contact time within 0.1 s


def _lean_then_walk(sc):
    # a firm walker (twice the modelled swings) leans before the first step: the trunk rises
    # 0.5 m/s² and settles, peaking one step period before the first contact, so the start
    # gate sees a candidate at the walk's rhythm that stands out a seventh as much as the
    # first step
    return _run(sc, [("still", 3), ("lean", 2 / 1.8), ("forward", 8), ("still", 3)], amp=2.0, lean=0.5)


def test_the_weight_shift_before_the_first_step_is_no_step(sc):
    events, contacts = _lean_then_walk(sc)
    assert len(events) == len(contacts)
    assert abs(events[0][0] - contacts[0][0]) <= 0.1 * 104


def test_the_weight_shift_needs_the_weak_first_peak_rule(sc, monkeypatch):
    monkeypatch.setattr(sc, "_WEAK_FIRST", 10 ** 6)  # no first peak is ever too weak
    events, contacts = _lean_then_walk(sc)
    assert len(events) == len(contacts) + 1
    assert events[0][0] < contacts[0][0] - 0.4 * 104  # the lean, a step period early


def _stop(sc, walk, close_s):
    # stopping, the walker sets the trailing foot down late and softly: a closing step that
    # takes close_s against the walk's 0.5 s, with a tenth of its swing (and a front-back swing
    # that says forward whichever way the walk went: braking)
    segs = [("still", 3), (walk, 6), ("close", close_s), ("still", 3)]
    return _run(sc, segs, step_hz=2.0, forward="+x")


@pytest.mark.parametrize("walk", ["forward", "backward"])
@pytest.mark.parametrize("close_s", [0.6, 0.7])  # 1.2 and 1.4 step periods
def test_the_closing_step_counts_and_keeps_the_direction(sc, walk, close_s):
    events, contacts = _stop(sc, walk, close_s)
    assert contacts[-1][1] == "close"
    assert len(events) == len(contacts)
    assert abs(events[-1][0] - contacts[-1][0]) <= 0.1 * 104
    assert all(d == (FWD if walk == "forward" else BWD) for _, d, _ in events)


def test_the_closing_step_needs_the_end_of_bout_credit(sc, monkeypatch):
    # too soft for a step on the rhythm and too late for it: without the credit it is missed
    monkeypatch.setattr(sc, "_LAST", 0)
    events, contacts = _stop(sc, "forward", 0.7)
    assert len(events) == len(contacts) - 1


def _thud_stop(sc, walk, gap_s, rate=104):
    # stopping, the walker sets the last foot down with so little weight that the trunk only
    # jolts: no peak, no swing; gap_s after the walk's last contact (its steps 0.5 s apart)
    segs = [("still", 3), (walk, 6), ("thud", gap_s), ("still", 3)]
    return _run(sc, segs, step_hz=2.0, forward="+x", rate=rate)


@pytest.mark.parametrize("rate", [104, 52, 26])
@pytest.mark.parametrize("walk", ["forward", "backward"])
@pytest.mark.parametrize("gap_s", [0.45, 0.55])  # 0.9 and 1.1 step periods
def test_a_closing_step_with_no_peak_counts_by_its_thud(sc, rate, walk, gap_s):
    events, contacts = _thud_stop(sc, walk, gap_s, rate)
    assert contacts[-1][1] == "thud"
    assert len(events) == len(contacts)
    assert abs(events[-1][0] - contacts[-1][0]) <= 0.1 * rate
    assert all(d == (FWD if walk == "forward" else BWD) for _, d, _ in events)


def test_the_thud_needs_its_rule(sc, monkeypatch):
    # no bin far enough from the newest to be looked at: the closing step is missed, the
    # walk's steps still count
    monkeypatch.setattr(sc, "_THUD_END", 64)
    events, contacts = _thud_stop(sc, "forward", 0.55)
    assert len(events) == len(contacts) - 1


def test_a_thud_two_step_periods_after_the_last_step_is_no_step(sc):
    events, contacts = _thud_stop(sc, "forward", 1.0)
    assert len(events) == len(contacts) - 1
    assert abs(events[-1][0] - contacts[-2][0]) <= 0.1 * 104


@pytest.mark.parametrize("amp, counted", [(0.3, True), (1.0, False)])
def test_a_closing_thud_is_judged_against_the_walkers_own_steps(sc, amp, counted):
    # the same small jolt (0.5 m/s², under a strong peak's 0.6 m/s²) closes two walks: a soft
    # walker's (swings at 0.3: its steps stand out about 1.2 m/s², a third of that 0.4 m/s²),
    # where it is as large as the walker's steps make a closing step, and a firm walker's
    # (about 3.3 m/s²), where it is not
    segs = [("still", 3), ("forward", 6), ("thud", 0.55), ("still", 3)]
    events, contacts = _run(sc, segs, step_hz=2.0, forward="+x", amp=amp, thud=0.5)
    assert contacts[-1][1] == "thud"
    closing = contacts[-1][0] if counted else contacts[-2][0]
    assert abs(events[-1][0] - closing) <= 0.1 * 104
    assert all(d == FWD for _, d, _ in events)


def test_a_jolt_while_standing_is_no_step(sc):
    events, _ = _run(sc, [("still", 3), ("thud", 2), ("still", 3)])
    assert events == []


@pytest.mark.parametrize("after_s, counted", [(0.15, False), (0.4, True)])
def test_a_jolt_as_the_data_ends_is_no_step(sc, after_s, counted):
    # the hand that ends a walk on the button jolts the board in its last moments: a jolt
    # closer than 0.27 s to the end of the data is not taken for the closing step
    counts, n, contacts = gs.build([("still", 3), ("forward", 6), ("thud", 0.5)], step_hz=2.0)
    n = contacts[-1][0] + int(after_s * 104)
    events = gs.run(counts[:6 * n], n, forward="+x")
    assert len(events) == len(contacts) - (0 if counted else 1)


def _soft_uneven_walk(sc):
    # a soft walker (the modelled walk's swings at 0.08: about 0.5 m/s² from trough to peak)
    # with an uneven gait: every other step 30 % quicker, the rest 30 % slower, so each step
    # lands off the rhythm the steps before it set
    return _run(sc, [("still", 3), ("forward", 30), ("still", 3)], amp=0.08, limp=0.3)


def test_a_soft_uneven_walker_counts_every_step(sc):
    events, contacts = _soft_uneven_walk(sc)
    # the model's first contact, from standing, is half a swing with no peak before it
    later = contacts[1:]
    assert len(events) == len(later)
    for (s, d, _), (c, _) in zip(events, later):
        assert abs(s - c) <= 0.1 * 104 and d == FWD


def test_a_soft_uneven_walker_needs_the_typical_step_bar(sc, monkeypatch):
    # the bar for a strong step held at its start (0.4 m/s²): the steps off the rhythm are
    # too soft for it, and are missed
    class FixedBar(sc.StepClassifier):
        def _step(self, *args):
            super()._step(*args)
            self._typical = sc._TYPICAL * self._prom_walk

    monkeypatch.setattr(sc, "StepClassifier", FixedBar)
    events, contacts = _soft_uneven_walk(sc)
    assert len(events) <= len(contacts) - 5


def _after(sc, first, then):
    """Events of walk `then` (segments, amp) fed after walk `first` (the same), and fed alone; and
    the contacts of `then`."""
    from array import array

    def walk(segments, amp):
        return gs.build([("still", 3)] + segments + [("still", 4)], step_hz=1.6, amp=amp)

    c1, n1, _ = walk(*first)
    c2, n2, contacts = walk(*then)
    both = gs.run(array("h", c1) + c2, n1 + n2)
    return [e for e in both if e[0] >= n1], gs.run(c2, n2), contacts


def test_the_start_gate_follows_a_soft_walker_across_a_stop(sc):
    # a soft walker (swings at 0.1) stops, then walks on softer still (0.06, tired or slowed: the
    # trunk's bounce rises about 0.25 m/s², under the start gate's 0.3): after the first walk the
    # gate asks a third of the walker's typical step, as a bout does, and counts the second
    # walk; fed alone it counts nothing
    after, alone, contacts = _after(sc, ([("forward", 15)], 0.1), ([("forward", 15)], 0.06))
    assert len(after) >= len(contacts) - 2 and all(d == FWD for _, d, _ in after)
    assert alone == []
    # after a firmer walk (0.2) the bar is the start gate's own: the same second walk counts none
    after, _, _ = _after(sc, ([("forward", 15)], 0.2), ([("forward", 15)], 0.06))
    assert after == []


@pytest.mark.parametrize("kind", ["shift", "sway", "still"])
def test_standing_after_a_soft_walk_is_no_walk(sc, kind):
    # the lower bar after a soft walk still asks the candidates to travel one way
    after, _, _ = _after(sc, ([("forward", 15)], 0.1), ([(kind, 20)], 0.06))
    assert after == []


# slow, soft walkers: too soft for the strong gate, too slow for the soft one (24 bins); bins:
# their step interval, which the slow gate must reach to count them; seconds: the walk's length
# (it ends half a step after a contact, so the last peak is whole)
SLOW = [
    (0.95, 0.1, 27, 25),  # 57 steps/min (a step every 1.05 s), a tenth of the modelled swings
    (0.8, 0.15, 32, 24),  # 48 steps/min (1.25 s: 32.5 bins), as slow as some walk backward
]


def _slow_soft(sc, kind, hz, amp, secs):
    return _run(sc, [("still", 3), (kind, secs), ("still", 3)], step_hz=hz, amp=amp)


@pytest.mark.parametrize("hz, amp, bins, secs", SLOW)
def test_a_slow_soft_walker_is_counted_from_the_first_steps(sc, hz, amp, bins, secs):
    events, contacts = _slow_soft(sc, "forward", hz, amp, secs)
    # the model's first contact, from standing, may have no peak before it; the gate holds back
    # at most one step more
    assert len(events) >= len(contacts) - 2
    assert all(d == FWD for _, d, _ in events)
    matched = sum(1 for s, _, _ in events if any(abs(s - c) <= 0.1 * 104 for c, _ in contacts))
    assert matched == len(events)


@pytest.mark.parametrize("hz, amp, bins, secs", SLOW)
def test_a_slow_soft_walker_needs_the_slow_gate(sc, monkeypatch, hz, amp, bins, secs):
    monkeypatch.setattr(sc, "_SLOW_MAX", bins - 3)  # short of the walker's step interval
    events, _ = _slow_soft(sc, "forward", hz, amp, secs)
    assert events == []


@pytest.mark.parametrize("hz, amp, bins, secs", SLOW)
def test_slow_soft_weight_shifting_is_no_walk(sc, monkeypatch, hz, amp, bins, secs):
    events, _ = _slow_soft(sc, "shift", hz, amp, secs)
    assert events == []
    monkeypatch.setattr(sc, "_AGREE_SLOW", 0)  # the slow gate's travel check is what stops it
    events, _ = _slow_soft(sc, "shift", hz, amp, secs)
    assert len(events) > 15


def test_a_slow_soft_walker_whose_cues_wander_is_counted(sc, slow_soft_walk, monkeypatch):
    # Real L5 subject 3 slowed to 0.7x and half as strong (a quarter of the trunk's acceleration:
    # an older walker's slow, soft steps at about 75 steps/min): four candidates' cues add up to
    # only 0.55-0.6 of their number, short of the soft gate's 10/16 and the slow one's 13/16, so
    # without the long gate not one of its 39 annotated contacts is found
    from retrowalk import evaluate as ev

    tr = slow_soft_walk
    got = ev.run(tr, "auto")
    assert len(tr.steps) == 39
    assert len(ev.match(got, tr.steps)) >= 20 and len(got) <= len(ev.match(got, tr.steps)) + 1
    assert all(d == "forward" for _, d, _ in got)
    monkeypatch.setattr(sc, "_GATE_LONG", 99)  # no long gate
    assert ev.run(tr, "auto") == []


# Real standing takes at twice their motion, and the gate whose closer travel check holds each:
# - swaying (Female1_A02_Sway): candidates about 1 s apart whose cues add up to 0.69 of their
#   number, held by the slow gate's 13/16;
# - swinging the arms (Female1_A03_Swing): the trunk bobs 0.3-0.6 m/s² every 0.4-0.65 s, a soft
#   walker's rhythm, and four candidates' cues add up to 0.59 of their number, held by the soft
#   gate's 10/16.
# With the strong gate's agreement (half their number) in its place, each counts a walk.
@pytest.mark.parametrize("take, agreement", [("Female1_A02_Sway", "_AGREE_SLOW"),
                                             ("Female1_A03_Swing", "_AGREE_SOFT")])
def test_firmer_swaying_or_arm_swinging_is_no_walk(sc, shared_data, monkeypatch, take, agreement):
    from retrowalk import augment
    from retrowalk import evaluate as ev

    tr = augment.soften(ev.load_trial(str(shared_data / "virtual-belt" / (take + ".csv")), "+x"), 2.0)
    assert ev.run(tr, "auto") == []
    monkeypatch.setattr(sc, agreement, sc._AGREE)
    assert len(ev.run(tr, "auto")) > 5


def _humped(sc, kind):
    # 60 steps/min whose trunk shows a second, weaker peak a third of a step after each contact
    # (a slow walker's): the peaks come 0.35 and 0.65 s apart, no regular rhythm for the gates,
    # but the strong ones are, and the pelvis twists alternate ways after them (the model's yaw
    # swings at half the step frequency)
    return _run(sc, [("still", 3), (kind, 20), ("still", 3)], step_hz=1.0, amp=0.5, hump2=2.0,
                hump_at=0.35, forward="+x")


@pytest.mark.parametrize("kind, d", [("forward", FWD), ("backward", BWD)])
def test_slow_steps_with_a_second_hump_off_the_middle_count_from_the_start(sc, kind, d):
    events, contacts = _humped(sc, kind)
    # the first contact, from standing, has no twist before the next: the gate starts a step later
    assert len(contacts) - 1 <= len(events) <= len(contacts)
    assert all(e == d for _, e, _ in events)
    # the first contact, from standing, and the last, before still, land off the model's peaks
    matched = sum(1 for s, _, _ in events if any(abs(s - c) <= 0.1 * 104 for c, _ in contacts))
    assert matched >= len(contacts) - 2


def test_slow_steps_with_a_second_hump_off_the_middle_need_the_hump_gate(sc, monkeypatch):
    monkeypatch.setattr(sc, "_TWIST_MRAD", 10 ** 6)  # no twist is that clear: no hump gate
    events, _ = _humped(sc, "forward")
    assert events == []


def test_a_weaker_leg_is_not_taken_for_a_second_hump(sc, shared_data, monkeypatch):
    # Male1 walking backward at half the motion: one leg's bounce is half the other's, so strong
    # and weak peaks alternate as with a second hump, but the strong ones are a stride apart and
    # the pelvis twists the same way after them: the hump gate leaves them, the soft gate starts
    # the walk
    from retrowalk import augment
    from retrowalk import evaluate as ev

    tr = augment.soften(ev.load_trial(str(shared_data / "virtual-belt" / "Male1_B6_WalkBackwards.csv"), "+x"), 0.5)
    got = ev.run(tr, "+x")
    assert len(ev.match(got, tr.steps)) >= 10 and len(tr.steps) == 13
    assert all(d == "backward" for _, d, _ in got)
    # every candidate twisting the other way from the one before: locked on strides
    flip = [1]

    def alternating(self, c, n):
        flip[0] = -flip[0]
        return flip[0] * 10 ** 6

    monkeypatch.setattr(sc.StepClassifier, "_twist", alternating)
    assert len(ev.run(tr, "+x")) <= 7


def test_forward_walk_is_forward(sc):
    events, _ = _run(sc, [("still", 2), ("forward", 30), ("still", 2)])
    assert events and all(d == FWD for _, d, _ in events)
    assert all(0 <= c <= 100 for _, _, c in events)


def _switch_steps(events, contacts, new_dir, first_new):
    """1-based index, among steps from the switch on, of the first step called new_dir for good."""
    after = [d for (s, d, _), (c, k) in zip(events, contacts) if c >= first_new]
    for i in range(len(after)):
        if all(d == new_dir for d in after[i:]):
            return i + 1
    return None


@pytest.mark.parametrize("forward", [None, "+x"])
def test_switch_to_backward_and_back_within_two_steps(sc, forward):
    segs = [("still", 2), ("forward", 20), ("backward", 15), ("forward", 15), ("still", 2)]
    events, contacts = _run(sc, segs, forward=forward)
    assert len(events) == len(contacts)
    first_bwd = min(c for c, k in contacts if k == "backward")
    first_fwd2 = min(c for c, k in contacts if k == "forward" and c > first_bwd)
    bwd_part = [(e, c) for e, c in zip(events, contacts) if first_bwd <= c[0] < first_fwd2]
    need = _switch_steps([e for e, _ in bwd_part], [c for _, c in bwd_part], BWD, first_bwd)
    assert need is not None and need <= 2
    assert _switch_steps(events, contacts, FWD, first_fwd2) <= 2
    # before the first switch everything is forward
    assert all(d == FWD for (s, d, _), (c, _) in zip(events, contacts) if c < first_bwd)


def _one_leg_travels(sc, hz):
    # every other step's front-back swing is flat (a weak or stiff leg, a slow walker): that
    # leg's cue says nothing, so no three steps in a row disagree with the walk's direction
    segs = [("still", 2), ("forward", 15), ("backward", 15), ("forward", 10), ("still", 2)]
    return _run(sc, segs, step_hz=hz, other_leg=0.0)


@pytest.mark.parametrize("hz", [1.2, 1.8])  # 72 and 108 steps/min
def test_switch_when_only_one_leg_shows_the_way(sc, hz):
    events, contacts = _one_leg_travels(sc, hz)
    assert len(events) == len(contacts)
    first_bwd = min(c for c, k in contacts if k == "backward")
    first_fwd2 = min(c for c, k in contacts if k == "forward" and c > first_bwd)
    part = [(e, c) for e, c in zip(events, contacts) if first_bwd <= c[0] < first_fwd2]
    # two strides that travel the other way: the call lands on the second step or the third
    assert _switch_steps([e for e, _ in part], [c for _, c in part], BWD, first_bwd) <= 3
    assert _switch_steps(events, contacts, FWD, first_fwd2) <= 3
    assert all(d == FWD for (s, d, _), (c, _) in zip(events, contacts) if c < first_bwd)


def test_one_leg_switch_needs_the_stride_rule(sc, monkeypatch):
    # with the stride rule off only three steps in a row can switch: the walk stays forward
    monkeypatch.setattr(sc, "_LEG", 1 << 20)
    events, contacts = _one_leg_travels(sc, 1.2)
    assert len(events) == len(contacts)
    assert all(d == FWD for _, d, _ in events)


def _rocking_walk(sc):
    # forward, then steps whose front-back swing is in phase with the vertical but for a faint
    # backward quadrature (5 % of the swing), then forward again: all of it walked forward
    segs = [("still", 2), ("forward", 10), ("rocking", 15), ("forward", 10), ("still", 2)]
    return _run(sc, segs)


def test_steps_with_next_to_no_travel_cue_do_not_switch_the_direction(sc):
    events, contacts = _rocking_walk(sc)
    assert len(events) == len(contacts)
    assert all(d == FWD for _, d, _ in events)


def test_the_cue_weighs_a_step_by_how_much_of_its_swing_travels(sc, monkeypatch):
    # the same walk with each cue taken as the bare direction of its quadrature (a cosine, the
    # step's coherence ignored): the faint backward quadrature lines up and switches the calls
    monkeypatch.setattr(sc, "_ratio", lambda a, b: 4096)
    events, _ = _rocking_walk(sc)
    assert sum(1 for _, d, _ in events if d == BWD) > 10


MOUNTS = {
    "front": (gs.IDENTITY, "+x"),
    "back": (gs.rot_z(180), "-x"),
    "left-hip": (gs.rot_z(90), "-y"),
    "upside-down": (gs.rot_x(180), "+x"),
    "on-side": (gs.rot_x(90), "+x"),
}


@pytest.mark.parametrize("name", sorted(MOUNTS))
@pytest.mark.parametrize("auto", [True, False])
def test_any_mounting(sc, name, auto):
    m, axis = MOUNTS[name]
    # the axis each matrix maps body-forward to, reasoned from the matrix itself
    f = [m[i][0] for i in range(3)]
    k = max(range(3), key=lambda j: abs(f[j]))
    assert axis == ("+" if f[k] > 0 else "-") + "xyz"[k]
    segs = [("still", 2), ("forward", 20), ("backward", 12), ("still", 2)]
    events, contacts = _run(sc, segs, m=m, forward=None if auto else axis)
    assert len(events) == len(contacts)
    wrong = [1 for (s, d, _), (c, kind) in zip(events, contacts) if d != (FWD if kind == "forward" else BWD)]
    assert len(wrong) <= 1  # at most the first step after the switch


@pytest.mark.parametrize("rate", [104, 52, 26])
def test_all_board_rates(sc, rate):
    segs = [("still", 2), ("forward", 20), ("backward", 12), ("still", 2)]
    events, contacts = _run(sc, segs, rate=rate)
    assert len(events) == len(contacts)
    assert sum(1 for _, d, _ in events if d == BWD) >= sum(1 for _, k in contacts if k == "backward") - 1


def _u_turn(sc, walk, turn_signal, secs, rate):
    # a U-turn on the spot (pi rad: secs at rate rad/s) inside a walk one way, its steps built
    # as the other way's -> (calls of the turn's steps, calls of the steps after it)
    segs = [("still", 2), ("forward", 15)]
    if walk == "backward":
        segs.append(("backward", 10))
    segs += [(turn_signal, secs, rate), (walk, 8), ("still", 2)]
    counts, n, contacts = gs.build(segs)
    events = gs.run(counts, n)
    assert len(events) == len(contacts)
    t_turn0 = int(sum(seg[1] for seg in segs[:-3]) * 104)
    t_turn1 = t_turn0 + int(secs * 104)
    turning = [d for s, d, _ in events if t_turn0 <= s <= t_turn1]
    after = [d for s, d, _ in events if s > t_turn1]
    return turning, after


# a U-turn at 2 rad/s takes two steps; at 1 rad/s five, enough to switch had their cues counted
@pytest.mark.parametrize("secs, rate, n_steps", [(1.6, 2.0, 2), (3.2, 1.0, 5)])
@pytest.mark.parametrize("walk, turn_signal, called", [("backward", "forward", BWD),
                                                        ("forward", "backward", FWD)])
def test_turning_steps_keep_the_direction(sc, walk, turn_signal, called, secs, rate, n_steps):
    # a turning step's cue is no evidence, so the turn is called the way the walk goes and
    # never switches it (walking backward down a corridor, the walker turns and goes on backward)
    turning, after = _u_turn(sc, walk, turn_signal, secs, rate)
    assert len(turning) >= n_steps and all(d == called for d in turning)
    # and the walk after the turn is still called its own way
    assert after and all(d == called for d in after)


def test_the_slower_u_turn_needs_the_turning_rules(sc, monkeypatch):
    # with no step or stride turning too fast to vote, the slower turn's five steps, their cues
    # all forward, outvote the backward walk: three in a row disagree, and the turn is called
    # forward (either rule alone keeps it backward: a stride of two steps over 0.75 rad/s turns
    # over 0.5 rad/s)
    monkeypatch.setattr(sc, "_TURN_MRAD", 10 ** 6)
    monkeypatch.setattr(sc, "_TURN_STRIDE_MRAD", 10 ** 6)
    turning, _ = _u_turn(sc, "backward", "forward", 3.2, 1.0)
    assert sum(1 for d in turning if d == FWD) >= 3


def _turn_at_the_warm_up(sc, secs, rate):
    # the walker presses start facing a wall, turns round on the spot (pi rad, its steps'
    # cues saying backward) and walks forward: the warm-up's first steps are the turn's
    segs = [("still", 2), ("backward", secs, rate), ("forward", 15), ("still", 2)]
    counts, n, contacts = gs.build(segs)
    res = replay.classify_cpython(counts, n, 104, "auto")
    assert len(res.steps) == len(contacts)
    return res


# U-turns too slow for every step to top 0.75 rad/s (the pelvis's own swing takes every other
# step's mean yaw rate about 0.19 rad/s off the turn's), whose strides all turn over 0.5 rad/s:
# README: "Steps while turning (yaw rate over a stride > 0.5 rad/s, or a single step > 0.75
# rad/s) keep the walk's direction"; so none of the turn's steps may switch the walk
@pytest.mark.parametrize("secs, rate", [(3.9, 0.8), (4.5, 0.7)])
@pytest.mark.parametrize("walk, turn_signal, called", [("backward", "forward", BWD),
                                                        ("forward", "backward", FWD)])
def test_a_turn_whose_strides_turn_keeps_the_direction(sc, walk, turn_signal, called, secs, rate):
    turning, after = _u_turn(sc, walk, turn_signal, secs, rate)
    assert len(turning) >= 6
    assert [d for d in turning if d != called] == []
    assert after and all(d == called for d in after)


# at 1.25 rad/s every step turns over 0.75 rad/s; at 0.7 every stride over 0.5 rad/s, but
# every other step under 0.75 (the pelvis's own swing takes about 0.19 rad/s off its mean)
@pytest.mark.parametrize("secs, rate", [(2.5, 1.25), (4.5, 0.7)])
def test_steps_taken_while_turning_teach_no_facing(sc, secs, rate):
    # a turning step teaches no facing: it is learned from the walk after the turn, body
    # forward being the model's +x, and every step is called forward
    res = _turn_at_the_warm_up(sc, secs, rate)
    fx, fy, fz = (v / 4096 for v in res.forward_q12)
    assert fx > 0.95
    assert all(d == FWD for _, d, _ in res.steps)


def test_the_slow_turn_at_the_warm_up_needs_the_stride_rule(sc, monkeypatch):
    # at 0.7 rad/s only the strides tell that every other step turns: without the stride rule
    # those steps teach the turn's backward cues as the facing, and the walk is called backward
    monkeypatch.setattr(sc, "_TURN_STRIDE_MRAD", 10 ** 6)
    res = _turn_at_the_warm_up(sc, 4.5, 0.7)
    assert res.forward_q12[0] < 0
    assert sum(1 for _, d, _ in res.steps[-20:] if d == BWD) >= 15


def test_batch_size_does_not_change_the_result(sc):
    counts, n, _ = gs.build([("still", 2), ("forward", 15), ("backward", 10), ("still", 2)])
    ref = gs.run(counts, n, batch=32)
    one = sc.StepClassifier()
    got = []
    for i in range(n):
        one.feed(*counts[6 * i:6 * i + 6])
        replay.drain(one, got)
    one.flush()
    replay.drain(one, got)
    assert got == ref
    assert got == gs.run(counts, n, batch=7)


def test_learns_the_facing_at_the_warm_up(sc):
    counts, n, _ = gs.build([("still", 2), ("forward", 12)], m=gs.rot_z(90))
    c = sc.StepClassifier()
    c.feed_batch(counts, n)
    assert c.calibrated
    # body forward (1, 0, 0) seen by the sensor through rot_z(90) is (0, -1, 0)
    fx, fy, fz = (v / 4096 for v in c.forward_q12)
    assert fy < -0.95 and abs(fx) < 0.2 and abs(fz) < 0.2


@pytest.mark.parametrize("axis", ["+z", "-z"])
def test_a_configured_axis_that_points_up_or_down_is_given_up_for_a_learned_one(sc, axis):
    # the model's z is up: a walk cannot be read along it. After 2.5 s of walking the axis is
    # given up, the facing is learned from the forward steps, and the walk is called forward.
    counts, n, contacts = gs.build([("still", 2), ("forward", 20), ("still", 2)])
    c = sc.StepClassifier(forward=axis)
    assert c.calibrated and not c.mount_ignored
    res = replay.classify_cpython(counts, n, 104, axis)
    assert res.mount_ignored and any(res.forward_q12)  # (zero until a facing is learned)
    fx, fy, fz = (v / 4096 for v in res.forward_q12)
    assert fx > 0.95  # body forward is the model's +x
    assert len(res.steps) == len(contacts) and all(d == FWD for _, d, _ in res.steps[-20:])


@pytest.mark.parametrize("from_down, kept", [(40, True), (20, False)])
def test_an_axis_is_given_up_within_30_degrees_of_vertical(sc, from_down, kept):
    # a clip pitched so that its forward axis +x points from_down degrees from straight down:
    # at 40 the axis still shows the way (its horizontal part is forward), at 20 it is given up
    counts, n, contacts = gs.build([("still", 2), ("forward", 20), ("still", 2)], m=gs.rot_y(90 - from_down))
    res = replay.classify_cpython(counts, n, 104, "+x")
    assert res.mount_ignored is not kept
    assert len(res.steps) == len(contacts) and all(d == FWD for _, d, _ in res.steps[-20:])


def test_a_given_up_axis_leaves_no_call_of_its_own_behind(sc):
    # -x given on a clip pitched so that -x points 20 degrees from up: its horizontal remainder
    # points backward, so the walk is called backward until the axis is given up. From then on
    # the steps waiting for their call hold cues of the dropped facing; they must not switch
    # the restarted direction back: every step called after the give-up is forward.
    counts, n, contacts = gs.build([("still", 2), ("forward", 20), ("still", 2)], m=gs.rot_y(70))
    c = sc.StepClassifier(forward="-x")
    before, after = [], []
    for i in range(0, n, 32):
        c.feed_batch(counts[6 * i:6 * min(n, i + 32)], min(32, n - i))
        replay.drain(c, after if c.mount_ignored else before)
    c.flush()
    replay.drain(c, after)
    assert c.mount_ignored and before and all(d == BWD for _, d, _ in before)  # the dropped axis's calls
    assert len(before) + len(after) == len(contacts) and all(d == FWD for _, d, _ in after)


def test_a_clip_tipped_up_while_standing_keeps_its_configured_axis(sc):
    # bent over for 10 s (tying a shoe: the clip's forward +x points down), swaying, then upright
    # and walking: only time spent walking counts against the axis, so it is kept
    a, na, _ = gs.build([("sway", 10)], m=gs.rot_y(90), seed=2)  # body up is the sensor's -x
    b, nb, contacts = gs.build([("still", 2), ("forward", 20), ("still", 2)])
    res = replay.classify_cpython(a + b, na + nb, 104, "+x")
    assert not res.mount_ignored and res.forward_q12[0] > 4050
    assert len(res.steps) == len(contacts) and all(d == FWD for _, d, _ in res.steps)


def test_unpopped_events_are_counted_as_dropped(sc):
    counts, n, contacts = gs.build([("still", 2), ("forward", 30), ("still", 2)])
    c = sc.StepClassifier()
    c.feed_batch(counts, n)
    c.flush()
    assert c.available() == 16  # the ring holds the newest 16
    assert c.events.dropped == len(contacts) - 16


@pytest.mark.parametrize("kwargs", [{"rate_hz": 100}, {"forward": "x"}, {"forward": "+w"},
                                    {"accel_ug_per_lsb": 0}, {"gyro_udps_per_lsb": 10}])
def test_bad_settings_raise_value_error(sc, kwargs):
    with pytest.raises(ValueError):
        sc.StepClassifier(**kwargs)


def test_last_contact_runs_ahead_of_the_called_steps(sc):
    counts, n, contacts = gs.build([("still", 2), ("forward", 20)])
    c = sc.StepClassifier()
    assert c.last_contact == -1
    c.feed_batch(counts, n)
    called = []
    while c.available():
        called.append(c.ev_sample[c.pop()])
    # the two newest accepted steps wait for their look-ahead; the newest is already known
    assert c.last_contact > called[-1]
    nearest = min(abs(c.last_contact - s) for s, _ in contacts)
    assert nearest <= 0.1 * 104
    # it is no older than the peak examination delay (17 bins of 4 samples) plus one step
    assert n - c.last_contact <= 17 * 4 + 104 / 1.8 + 8


def _slow_two_hump_walk(sc):
    # 60 steps/min with 60 % of the vertical swing at twice the step frequency: every step shows
    # a second strong hump half a step after its contact, as a slow walker's trunk does
    events, contacts = _run(sc, [("still", 3), ("forward", 25), ("backward", 20), ("still", 3)],
                            step_hz=1.0, hump2=0.6)
    first_bwd = next(c for c, k in contacts if k == "backward")
    fwd_ok = sum(1 for s, d, _ in events if s < first_bwd and d == FWD)
    bwd_ok = sum(1 for s, d, _ in events if s >= first_bwd and d == BWD)
    return events, contacts, fwd_ok, bwd_ok


def test_slow_steps_with_two_humps_count_once(sc):
    events, contacts, fwd_ok, bwd_ok = _slow_two_hump_walk(sc)
    n_fwd = sum(1 for _, k in contacts if k == "forward")
    # the start gate takes the humps for steps until the half-step lock is found (<= 3 extra)
    assert len(contacts) <= len(events) <= len(contacts) + 3
    assert fwd_ok >= n_fwd - 1
    assert bwd_ok >= len(contacts) - n_fwd - 2


@pytest.mark.parametrize("stop_s", [3, 8])
def test_a_half_step_lock_ends_with_its_bout(sc, stop_s):
    # the same slow walker twice, standing between: the second bout finds the lock again from
    # its own steps, and counts each contact once, as the first does (a lock kept from the bout
    # before would stop it looking, and count both humps of every step)
    events, contacts = _run(sc, [("still", 3), ("forward", 25), ("still", stop_s), ("forward", 25),
                                 ("still", 3)], step_hz=1.0, hump2=0.6)
    split = (3 + 25 + stop_s / 2) * 104
    for bout in (0, 1):
        n_true = sum(1 for c, _ in contacts if (c >= split) == bout)
        n_steps = sum(1 for s, _, _ in events if (s >= split) == bout)
        assert n_true <= n_steps <= n_true + 3, (bout, n_true, n_steps)


def test_slow_two_hump_walk_needs_the_half_step_check(sc, monkeypatch):
    # the same walk with the check switched off locks on half a step: about twice the steps
    monkeypatch.setattr(sc, "_HALF_STEPS", 0)
    events, contacts, _, _ = _slow_two_hump_walk(sc)
    assert len(events) > 1.5 * len(contacts)
