"""Interval coach: simulated step streams for each preset, pauses, wrong way, distance, parity, heap."""

import pytest



from retrowalk.firmware import program as P
from retrowalk.firmware import coach as C
from retrowalk.firmware.walkplan import expand

RATE = 104
F, B = 1, 2

# Walk simulation shared by the CPython tests and the MicroPython VM runs (runs in both).
SIM = r'''
from firmware import coach, haptics, program
from firmware.walkplan import expand

def stream(first, period, until, bounds):
    """Steps every `period` samples from `first` (< until); direction from bounds [(last_sample, dir)]."""
    out = []
    t = first
    while t < until:
        for last, d in bounds:
            if t <= last:
                out.append((t, d))
                break
        t += period
    return out

def run(prog, rate, steps, end, batch=26, delay=0, buttons=(), seen_delay=-1, popped_at=None):
    """Feed like the board's main loop: per batch of samples, the steps reported by then, then update().
    delay: samples between a step's contact and its report. buttons: [(sample, 'pause'|'resume'|'stop')].
    seen_delay >= 0: the classifier has seen a step this many samples after its contact (update's
    `seen`). popped_at: a list that receives the sample clock at which each event came out."""
    c = coach.Coach(expand(prog), rate)
    c.start(0)
    ev = []
    i = 0
    b = 0
    now = 0
    while now < end:
        now += batch
        while i < len(steps) and steps[i][0] + delay <= now:
            c.on_step(steps[i][0], steps[i][1])
            i += 1
        while b < len(buttons) and buttons[b][0] <= now:
            getattr(c, buttons[b][1])(buttons[b][0])
            b += 1
        seen = -1
        if seen_delay >= 0:
            for t, _ in steps:
                if t + seen_delay > now:
                    break
                seen = t
        c.update(now, seen)
        while c.available():
            k = c.pop()
            if popped_at is not None:
                popped_at.append(now)
            ev.append((coach.EVENT_NAMES[c.ev_kind[k]], c.ev_sample[k], c.ev_arg[k], haptics.NAMES[c.ev_cue[k]]))
    return c, ev
'''
NS = {}
exec(compile(SIM, "coach-sim", "exec"), NS)
stream, run = NS["stream"], NS["run"]


def switches(ev):
    return [(name, sample, cue) for name, sample, arg, cue in ev if name in ("segment", "done")]


# ---- presets, walked as prescribed (a step every 55 samples = 113 steps/min at 104 Hz) ----

def test_five_one_switches_on_the_exact_sample():
    # 300 s forward = 31200 samples, 60 s backward = 6240, x4, then 120 s forward = 12480.
    edges = []
    t = 0
    for _ in range(4):
        t += 300 * RATE
        edges.append(t)
        t += 60 * RATE
        edges.append(t)
    done = t + 120 * RATE
    assert edges[:2] == [31200, 37440] and done == 162240
    bounds = []
    for i, e in enumerate(edges):
        bounds.append((e - 1, F if i % 2 == 0 else B))
    steps = stream(30, 55, done + 2000, bounds + [(10 ** 9, F)])
    c, ev = run(P.preset("five-one"), RATE, steps, done + 2000)
    cues = ["switch_backward", "switch_forward"] * 4
    assert switches(ev) == ([("segment", e, cue) for e, cue in zip(edges, cues)] + [("done", done, "done")])
    assert ev[0] == ("start", 0, 0, "start")
    assert c.done and not c.paused and c.wrong_cues == 0 and c.pauses == 0


def test_cue_samples_do_not_depend_on_batch_size_or_late_steps():
    prog = P.preset("five-one")
    bounds = [(31199, F), (37439, B), (68639, F), (74879, B), (10 ** 9, F)]
    steps = stream(30, 55, 80000, bounds)
    c0, ev0 = run(prog, RATE, steps, 80000, batch=1)
    # The classifier reports a step up to ~2 steps after its contact; FIFO batches of ~1 s.
    c1, ev1 = run(prog, RATE, steps, 80000, batch=104, delay=110)
    assert switches(ev0) == switches(ev1) == [("segment", 31200, "switch_backward"), ("segment", 37440, "switch_forward"),
                                              ("segment", 68640, "switch_backward"), ("segment", 74880, "switch_forward")]


def test_steps_seen_before_they_are_called_end_timed_segments_within_one_batch():
    prog = P.preset("five-one")
    bounds = [(31199, F), (37439, B), (68639, F), (74879, B), (10 ** 9, F)]
    steps = stream(30, 55, 80000, bounds)
    want = [("segment", 31200, "switch_backward"), ("segment", 37440, "switch_forward"),
            ("segment", 68640, "switch_backward"), ("segment", 74880, "switch_forward")]
    # Called 2.3 s after the contact (more than the 2 s grace): without `seen` the coach
    # notices a segment's end only when a step from after it is called.
    late = []
    c0, ev0 = run(prog, RATE, steps, 80000, batch=21, delay=240, popped_at=late)
    assert switches(ev0) == want
    assert max(p - s for p, (_, s, _, _) in zip(late, ev0) if s > 0) > 21
    # Seen 0.65 s after the contact (StepClassifier.last_contact): each end comes out in the
    # FIFO read (21 samples = 200 ms) that passes it.
    popped = []
    c1, ev1 = run(prog, RATE, steps, 80000, batch=21, delay=240, seen_delay=68, popped_at=popped)
    assert switches(ev1) == want
    for p, (name, sample, _, _) in zip(popped, ev1):
        if name == "segment":
            assert 0 <= p - sample < 21, (sample, p)



def test_a_timed_segment_after_a_step_segment_starts_at_its_last_step_with_steps_seen_late():
    # 20 steps forward, then 10 s (1040 samples) backward. A step every 55 samples from 55: the
    # 20th (the segment's end) at 1100, walked on without a stop (every gap 55 < the 2 s grace),
    # so the backward segment has 1040 samples of walking time at 1100 + 1040 = 2140.
    # On the board's timing (called 220 samples after the contact, seen 68 after, batches of
    # 26) the step at 1100 is called at the update of 1326 (1100 + 220 = 1320), when walking
    # time already runs to the step seen at 1210 (1210 + 68 = 1278 <= 1326): starting the timed
    # segment with that walking time ended it 110 samples late, at 2250.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "steps": 20},
                                                  {"direction": "backward", "time_s": 10}]})
    steps = stream(55, 55, 4000, [(1100, F), (10 ** 9, B)])
    want = [("segment", 1100, "switch_backward"), ("done", 2140, "done")]
    for kw in ({}, {"delay": 220}, {"delay": 220, "seen_delay": 68}, {"delay": 220, "seen_delay": 88, "batch": 21}):
        c, ev = run(prog, RATE, steps, 4000, **kw)
        assert switches(ev) == want, kw

def test_one_in_ten_after_three_weeks_walks_105_s_backward():
    prog = P.apply_progression(P.preset("one-in-ten", "2025-03-03"), (2025, 3, 24))  # 21 days
    # 240 s forward -> 24960; +105 s backward -> 35880; +300 s forward -> 67080.
    steps = stream(30, 55, 70000, [(24959, F), (35879, B), (10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 70000)
    assert switches(ev) == [("segment", 24960, "switch_backward"), ("segment", 35880, "switch_forward"),
                            ("done", 67080, "done")]


def test_one_one_alternates_every_minute_after_the_warm_up():
    edges = [12480 + 6240 * i for i in range(10)]        # 120 s, then 60 s each
    bounds = [(12479, F)] + [(e + 6239, B if i % 2 == 0 else F) for i, e in enumerate(edges)]
    steps = stream(30, 55, 80000, bounds)
    c, ev = run(P.preset("one-one"), RATE, steps, 80000)
    # Written out: segments start at 12480, 18720, ..., 68640; the walk is done at 74880.
    got = switches(ev)
    assert [s for _, s, _ in got] == edges + [74880]
    assert [cue for _, _, cue in got] == ["switch_backward", "switch_forward"] * 5 + ["done"]


def test_block_ends_on_distance_counted_in_steps():
    # 100 m / 0.70 m = 142.9 -> 143 forward steps; 100 m / 0.45 m = 222.2 -> 223 backward steps.
    prog = P.preset("block")
    assert list(C.Coach(expand(prog), RATE).plan_target) == [143, 223]  # per row; each walked three times
    # The n-th step (from 0) is at 30 + 55 n. Forward steps 0..142 end block 1 at step 142.
    ends = []
    n = -1
    for _ in range(3):
        n += 143
        ends.append(n)
        n += 223
        ends.append(n)
    assert ends[:2] == [142, 365]
    bounds = [(30 + 55 * e, F if i % 2 == 0 else B) for i, e in enumerate(ends)]
    steps = stream(30, 55, 30 + 55 * ends[-1] + 1000, bounds)
    c, ev = run(prog, RATE, steps, 30 + 55 * ends[-1] + 1000)
    got = switches(ev)
    assert [s for _, s, _ in got] == [30 + 55 * e for e in ends]
    assert [cue for _, _, cue in got] == ["switch_backward", "switch_forward"] * 2 + ["switch_backward", "done"]


def test_wrong_way_steps_do_not_count_toward_distance():
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 10},
                                                  {"direction": "backward", "distance_m": 10}],
                       "stride_m": {"backward": 0.5}})
    # 10 s forward = 1040 samples; 10 m / 0.5 m = 20 backward steps, but 5 forward steps in between.
    steps = [(30 + 55 * k, F) for k in range(19)]                 # up to 1020
    t = 1075
    for k in range(25):
        steps.append((t, F if 8 <= k < 13 else B))               # 20 backward, 5 forward mixed in
        t += 55
    c, ev = run(prog, RATE, steps, 4000)
    # The 20th backward step is the 25th step of the block: 1075 + 24 x 55 = 2395.
    assert switches(ev) == [("segment", 1040, "switch_backward"), ("done", 2395, "done")]
    assert c.wrong_cues == 1           # 5 forward in a row, 4 needed, well after the settle time


def test_a_step_called_after_a_timed_end_does_not_count_for_the_next_segment():
    # 10 s forward (1040 samples), then 10 steps forward. Steps at 30 + 55k, each called 110
    # samples late but seen 68 after its contact: the timed end at 1040 comes out before the
    # step at 1020 is called (at 1130). That step was taken in the timed segment, so the ten
    # steps are k = 19..28 and the walk is done at 30 + 55 x 28 = 1570 (1515 if it counted).
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 10},
                                                  {"direction": "forward", "steps": 10}]})
    steps = stream(30, 55, 2000, [(10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 2000, batch=21, delay=110, seen_delay=68)
    assert switches(ev) == [("segment", 1040, "none"), ("done", 1570, "done")]


def test_step_count_segments():
    prog = P.validate({"version": 1, "warmup": {"time_s": 10},
                       "segments": [{"direction": "forward", "steps": 20}, {"direction": "backward", "steps": 10}],
                       "repeat": 2})
    # Warm-up ends at 1040. Next steps: k = 19 (1075) onward; 20 forward -> k = 38 (2120);
    # 10 backward -> k = 48 (2670); 20 forward -> k = 68 (3770); 10 backward -> k = 78 (4320).
    at = [30 + 55 * k for k in (38, 48, 68, 78)]
    assert at == [2120, 2670, 3770, 4320]
    steps = stream(30, 55, 6000, [(2120, F), (2670, B), (3770, F), (10 ** 9, B)])
    c, ev = run(prog, RATE, steps, 6000)
    assert switches(ev) == [("segment", 1040, "none"), ("segment", 2120, "switch_backward"),
                            ("segment", 2670, "switch_forward"), ("segment", 3770, "switch_backward"),
                            ("done", 4320, "done")]


# ---- pauses ----

def test_standing_still_pauses_and_does_not_eat_the_interval():
    # one-one: 120 s forward warm-up = 12480 samples. The walker stops after the step at 5530
    # and walks on at 7610 (20 s later). Of the gap only GRACE_MS (2 s = 208 samples) counts,
    # so the warm-up ends 2080 - 208 = 1872 samples late: at 14352.
    assert C.GRACE_MS == 2000
    steps = stream(30, 55, 5531, [(10 ** 9, F)]) + stream(7610, 55, 20000, [(14351, F), (10 ** 9, B)])
    c, ev = run(P.preset("one-one"), RATE, steps, 20000)
    # Paused 4 s (416 samples) after the last step, cue "paused"; the first step resumes.
    assert [e for e in ev if e[0] in ("pause", "resume")] == [("pause", 5946, 0, "paused"), ("resume", 7610, 0, "none")]
    assert switches(ev)[0] == ("segment", 14352, "switch_backward")
    assert c.pauses == 1 and not c.paused


def test_pause_state_is_visible_while_standing():
    steps = stream(30, 55, 5531, [(10 ** 9, F)])
    c, ev = run(P.preset("one-one"), RATE, steps, 5900)
    assert not c.paused                             # 5900 - 5530 = 370 < 416
    assert c.active(5900) == 5530 + 208             # walking time stops growing after the grace
    # The pause began at 5530 + 416 = 5946; it is declared once a step before it would have
    # been seen (SEEN_MS, 1 s = 104 samples, later), and dated 5946.
    assert C.SEEN_MS == 1000
    c.update(5946 + 103)
    assert not c.paused
    c.update(5946 + 104)
    assert c.paused and c.active(9000) == 5738
    k = c.pop()
    assert (C.EVENT_NAMES[c.ev_kind[k]], c.ev_sample[k]) == ("pause", 5946)


def test_standing_before_the_first_step_pauses_without_a_buzz():
    # Start pressed at 0; the walker's first steps (from 520, 5 s in) are called 3 steps late, as
    # the classifier's start gate holds them. The pause from 416 (4 s) is declared at 520, just
    # as they walk: logged, but a PAUSED buzz there would tell a walker who is walking to walk.
    # Their first step resumes it; a later stop buzzes as every pause does.
    steps = stream(520, 55, 2000, [(10 ** 9, F)]) + stream(3000, 55, 3300, [(10 ** 9, F)])
    c, ev = run(P.preset("one-one"), RATE, steps, 6000, delay=3 * 55)
    pauses = [e for e in ev if e[0] in ("pause", "resume")]
    assert pauses[:2] == [("pause", 416, 0, "none"), ("resume", 520, 0, "none")]
    last = 520 + 55 * ((2000 - 520) // 55)  # 1950: the walker stands from there to 3000
    assert pauses[2:] == [("pause", last + 416, 0, "paused"), ("resume", 3000, 0, "none"),
                          ("pause", 3275 + 416, 0, "paused")]



def test_a_press_before_the_first_step_does_not_make_the_auto_pause_buzz():
    # Start at 0, pause at 100 and resume at 200 (a press too many), the walker getting ready;
    # the first steps come from 1500, called 3 steps (165 samples) late. The auto-pause begins
    # 4 s (416 samples) after the resume, at 616, declared at 720: no step has been called,
    # so no buzz (the pause's 100 samples of walking time from start() are not a step).
    steps = stream(1500, 55, 3000, [(10 ** 9, F)])
    c, ev = run(P.preset("one-one"), RATE, steps, 3000, delay=165, buttons=[(100, "pause"), (200, "resume")])
    assert [e for e in ev if e[0] in ("pause", "resume")] == [
        ("pause", 100, 1, "paused"), ("resume", 200, 1, "start"),
        ("pause", 616, 0, "none"), ("resume", 1500, 0, "none")]

def test_a_step_called_after_the_auto_pause_it_came_before_does_not_resume_it():
    # The board's classifier sees a step 0.85 s after its contact (88 samples: update's `seen`)
    # but calls the last steps of a stretch only when the bout ends, about 3 s after them (here
    # every step: 320 samples). The walker stops after the step at 1100; with pause_after_s 2
    # (208 samples) the pause is dated 1308. The steps at 1045 and 1100 are called at 1365 and
    # 1420: they came before it, were seen before it, and neither resumes it nor starts a second.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}],
                       "pause_after_s": 2})
    steps = stream(55, 55, 1101, [(10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 3000, delay=320, seen_delay=88)
    assert [e for e in ev if e[0] in ("pause", "resume")] == [("pause", 1308, 0, "paused")]
    assert c.pauses == 1 and c.paused and c.steps_fwd == 20


def test_a_step_at_the_auto_pause_s_first_sample_resumes_it():
    # The walker stands after the step at 1950 and sets off again exactly when the pause
    # begins (1950 + 416 = 2366), the new bout's steps called 3 steps late. The step at 2366
    # counts for the segment, so it must end the pause: walkstats leaves out every step in
    # [pause, resume), and with the resume at the next step (2421) the report counted one
    # step fewer than the board.
    steps = stream(520, 55, 2000, [(10 ** 9, F)]) + stream(2366, 55, 3000, [(10 ** 9, F)])
    c, ev = run(P.preset("one-one"), RATE, steps, 3200, delay=3 * 55)
    assert [e for e in ev if e[0] in ("pause", "resume")][2:] == [("pause", 2366, 0, "paused"),
                                                                  ("resume", 2366, 0, "none")]
    assert c.segment == 0 and c.seg_steps == len(steps)  # the 2 min warm-up goes on: every step counted


def test_a_short_auto_pause_does_not_come_between_steps_still_unseen():
    # pause_after_s 1 (104 samples) at 108 steps/min (58 samples a step): each step is seen
    # 88 samples after its contact, so a step is always unseen for a while after the step
    # before is 104 samples old; nobody stopped, so no pause may come.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}],
                       "pause_after_s": 1})
    steps = stream(58, 58, 6000, [(10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 6000, delay=200, seen_delay=88)
    assert [e for e in ev if e[0] in ("pause", "resume")] == [] and c.pauses == 0


def test_steps_before_a_button_pause_count_for_the_segment():
    # 20 steps forward, then 20 backward. The 20th step's contact is at 1100; the walker presses
    # pause at 1118, before that step is called (110 samples after its contact). It was taken
    # before the pause, so it ends the segment at 1100 (cue: switch to backward).
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "steps": 20},
                                                  {"direction": "backward", "steps": 20}]})
    steps = stream(55, 55, 1101, [(10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 1300, delay=110, buttons=[(1118, "pause")])
    assert switches(ev) == [("segment", 1100, "switch_backward")]
    assert c.segment == 1 and c.steps_fwd == 20
    # a step taken after the press counts for nothing: the backward one at 1155
    steps = stream(55, 55, 1200, [(1100, F), (10 ** 9, B)])
    c, ev = run(prog, RATE, steps, 1400, delay=110, buttons=[(1118, "pause")])
    assert c.segment == 1 and c.seg_steps == 0 and c.steps_back == 1


def test_button_pause_and_resume():
    # Paused with the button at 5000 and resumed at 9000; steps in between do not count.
    # Counted: 0..5000 (last step 4980, +20) and from 9000 on: the warm-up (12480) ends at
    # 9000 + 12480 - 5000 = 16480.
    steps = stream(30, 55, 25000, [(16479, F), (10 ** 9, B)])
    c, ev = run(P.preset("one-one"), RATE, steps, 25000, buttons=[(5000, "pause"), (9000, "resume")])
    assert [e for e in ev if e[0] in ("pause", "resume")] == [("pause", 5000, 1, "paused"), ("resume", 9000, 1, "start")]
    assert switches(ev)[0] == ("segment", 16480, "switch_backward")


def test_steps_walked_during_a_button_pause_do_not_count_when_called_after_the_resume():
    # A 20-step forward segment; a step every 55 samples from 55, each called 110 samples
    # (2 steps) late. Paused with the button at 1000 (18 steps before it: 55..990), the walker
    # walks on and resumes at 2000 while walking: the steps at 1925 and 1980, taken while
    # paused but called after the resume, must not count (walkstats leaves them out too). The
    # segment needs 2 more steps after the resume: 2035 and 2090, called at 2200.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "steps": 20},
                                                  {"direction": "backward", "time_s": 60}]})
    steps = stream(55, 55, 3000, [(10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 3000, delay=110, buttons=[(1000, "pause"), (2000, "resume")])
    assert switches(ev)[0] == ("segment", 2090, "switch_backward")
    assert c.steps_fwd == len([t for t, _ in steps if t + 110 <= 3000])


def test_steps_of_a_pause_called_after_the_next_pause_began_do_not_count():
    # As above, each step called 220 samples (4 steps) late. Paused at 1000, resumed at 2000
    # and paused again at 2060 (a press too many): the steps at 1925 and 1980, taken in the
    # first pause, are called at 2145 and 2200, in the second; they count for nothing (the
    # second pause's start came after them). Counted: 55..990 (18), 2035 (19), and after the
    # resume at 3000 the step at 3025 (20) ends the segment.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "steps": 20},
                                                  {"direction": "backward", "time_s": 60}]})
    steps = stream(55, 55, 4000, [(10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 4000, delay=220,
                buttons=[(1000, "pause"), (2000, "resume"), (2060, "pause"), (3000, "resume")])
    assert switches(ev)[0] == ("segment", 3025, "switch_backward")


# ---- the reminder: walking on while paused with the button ----
# A walker who presses pause and walks on forgetting it gets no cue and the program stands
# still. 30 steps taken in a row during a button pause (no stop of pause_after_s between them)
# give the PAUSED buzz again (event "remind", dated at the 30th step's contact), then again
# after each 30 more in a row, at most once a minute (6240 samples) from the last one.

LONG = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}]})


def reminders(ev):
    return [e for e in ev if e[0] in ("pause", "resume", "remind")]


def test_walking_on_while_paused_with_the_button_buzzes_paused_again_once_a_minute():
    # Paused at 5000; the walker walks on, a step every 55 samples, each called 110 late. The
    # steps from 5035 are taken while paused; the 30th is 5035 + 29 x 55 = 6630. The next
    # reminders come at the first step a minute (6240 samples) after the one before:
    # 12870 -> 12900, 19140 -> 19170, 25410 -> 25440.
    steps = stream(30, 55, 30000, [(10 ** 9, F)])
    c, ev = run(LONG, RATE, steps, 30000, delay=110, seen_delay=68, buttons=[(5000, "pause")])
    assert reminders(ev) == [("pause", 5000, 1, "paused"), ("remind", 6630, 0, "paused"),
                             ("remind", 12900, 0, "paused"), ("remind", 19170, 0, "paused"),
                             ("remind", 25440, 0, "paused")]
    assert c.user_paused and c.active(30000) == 5000 and c.pauses == 1  # still paused: nothing counted


def test_standing_while_paused_gives_no_reminder_and_a_stop_starts_the_count_again():
    # A café stop: paused at 5000, 20 steps to the counter (to 6080), 30 s standing, 25 steps to
    # a table (9200 to 10520), almost 5 min sitting. None of that is walking on: no reminder
    # (counting every step taken while paused, the 30th was at 9695). Then the walker leaves
    # and forgets the pause: the reminder comes at the 30th step in a row from 40000.
    steps = (stream(30, 55, 6081, [(10 ** 9, F)]) + stream(9200, 55, 10521, [(10 ** 9, F)])
             + stream(40000, 55, 42146, [(10 ** 9, F)]))
    c, ev = run(LONG, RATE, steps, 43000, delay=110, seen_delay=68, buttons=[(5000, "pause")])
    assert reminders(ev) == [("pause", 5000, 1, "paused"), ("remind", 40000 + 29 * 55, 0, "paused")]
    assert not c.stopped


def test_reminders_come_at_most_once_a_minute_and_each_after_30_steps_in_a_row():
    # Paused at 5000, walking on: the first reminder at 6630. The walker goes on to 11975 (30
    # steps in a row again by 8225, but within the minute: none), stands 2000 samples (more than
    # pause_after_s, 416) and walks on from 14000: a minute has passed (12870), the 30th step in
    # a row is 14000 + 29 x 55 = 15595. The next a minute later: 21835 -> 21865.
    steps = stream(30, 55, 12000, [(10 ** 9, F)]) + stream(14000, 55, 23000, [(10 ** 9, F)])
    c, ev = run(LONG, RATE, steps, 23000, delay=110, seen_delay=68, buttons=[(5000, "pause")])
    assert [e[1] for e in reminders(ev) if e[0] == "remind"] == [6630, 15595, 21865]



def test_reminders_come_with_a_short_pause_after_and_for_a_slow_walker():
    # The next step is seen 68-88 samples after its contact, so while walking on the newest
    # step seen is up to a step + 88 + a batch old: more than pause_after_s 1 (104 samples) at
    # 113 steps/min (55 + 68 + 21 = 144), and more than 2 s (208) at 50 steps/min
    # (125 + 88 + 21 = 234). A stop is judged as the auto-pause judges it, SEEN_MS (104) later.
    # 113 steps/min from 30, paused at 5000: the first step in the pause 5035, its 30th
    # 5035 + 29 x 55 = 6630, then the first steps a minute on: 12870 -> 12900, 19140 -> 19170.
    steps = stream(30, 55, 20000, [(10 ** 9, F)])
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}], "pause_after_s": 1})
    c, ev = run(prog, RATE, steps, 20000, batch=21, delay=220, seen_delay=68, buttons=[(5000, "pause")])
    assert [e[1] for e in reminders(ev) if e[0] == "remind"] == [6630, 12900, 19170]
    # 50 steps/min (125 samples a step) from 30, pause_after_s 2, called 2 steps + 88 late and
    # seen 88 after: the first step in the pause 5030, its 30th 5030 + 29 x 125 = 8655, then
    # 14895 -> 14905.
    steps = stream(30, 125, 16000, [(10 ** 9, F)])
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}], "pause_after_s": 2})
    c, ev = run(prog, RATE, steps, 16000, batch=21, delay=338, seen_delay=88, buttons=[(5000, "pause")])
    assert [e[1] for e in reminders(ev) if e[0] == "remind"] == [8655, 14905]

def test_no_reminder_after_the_resume_and_the_count_starts_again_at_the_next_pause():
    # Paused at 5000 (reminder at 6630: 25 steps counted after it), resumed at 8000 while
    # walking (the steps at 7920 and 7975, taken while paused and called after the resume,
    # remind of nothing), walking on: no reminder. Paused again at 20000: 30 new steps from
    # 20050, the 30th at 21645 (not 5 steps in: 20270).
    steps = stream(30, 55, 23000, [(10 ** 9, F)])
    c, ev = run(LONG, RATE, steps, 23000, delay=110, seen_delay=68,
                buttons=[(5000, "pause"), (8000, "resume"), (20000, "pause")])
    assert reminders(ev) == [("pause", 5000, 1, "paused"), ("remind", 6630, 0, "paused"),
                             ("resume", 8000, 1, "start"), ("pause", 20000, 1, "paused"),
                             ("remind", 21645, 0, "paused")]


def test_an_auto_pause_needs_no_reminder_but_a_press_while_standing_does():
    # The walker stops after 5530: auto-pause at 5946, and the next step (8000) resumes it; the
    # 40 steps after it (to 10145) are walking, counted for the program: no reminder. Stopped
    # again (auto-pause at 10561), the walker presses pause at 12000 for a coffee, then walks
    # on from 15000 forgetting it: the 30th step, 16595, reminds.
    steps = (stream(30, 55, 5531, [(10 ** 9, F)]) + stream(8000, 55, 10146, [(10 ** 9, F)])
             + stream(15000, 55, 18000, [(10 ** 9, F)]))
    c, ev = run(LONG, RATE, steps, 18000, delay=110, seen_delay=68, buttons=[(12000, "pause")])
    assert reminders(ev) == [("pause", 5946, 0, "paused"), ("resume", 8000, 0, "none"),
                             ("pause", 10561, 0, "paused"), ("pause", 12000, 1, "paused"),
                             ("remind", 16595, 0, "paused")]

def test_a_press_just_after_setting_off_from_an_auto_pause_keeps_the_pause_from_its_start():
    # 100 steps forward, then 60 s backward. Steps every 55 from 55 to 1100 (20), standing: the
    # auto-pause begins at 1100 + 416 = 1516 (buzz). The walker sets off at 2000 (steps to
    # 2495), presses pause at 2100 and resume at 2300.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "steps": 100},
                                                  {"direction": "backward", "time_s": 60}]})
    steps = stream(55, 55, 1101, [(10 ** 9, F)]) + stream(2000, 55, 2500, [(10 ** 9, F)])
    press = [(2100, "pause"), (2300, "resume")]
    # Steps called at once: the one at 2000 resumes the walk, so the two before the press count
    # (walkstats counts from that resume), and the 4 from 2330 to 2495 after it: 26.
    c, ev = run(prog, RATE, steps, 2600, batch=21, buttons=press)
    assert reminders(ev) == [("pause", 1516, 0, "paused"), ("resume", 2000, 0, "none"),
                             ("pause", 2100, 1, "paused"), ("resume", 2300, 1, "start")]
    assert c.seg_steps == 26
    # Called 220 late: none is called before the press, so no resume is logged before it, and
    # walkstats leaves out the steps in [1516, 2300): the coach counts none of them either, those
    # taken before the press included (it counted them): 20 + the one after the resume called
    # by 2600 (2330, called at 2550; 2385 is called at 2605).
    c, ev = run(prog, RATE, steps, 2600, batch=21, buttons=press, delay=220, seen_delay=68)
    assert reminders(ev) == [("pause", 1516, 0, "paused"), ("pause", 2100, 1, "paused"),
                             ("resume", 2300, 1, "start")]
    assert c.seg_steps == 21


def test_stop_ends_the_walk():
    steps = stream(30, 55, 8000, [(10 ** 9, F)])
    c, ev = run(P.preset("one-one"), RATE, steps, 8000, buttons=[(6000, "stop")])
    assert ev[-1] == ("stop", 6000, 0, "none") and c.stopped and not c.done
    # The stop is handled in the batch ending at 6006 (231 x 26), after its steps:
    # 30 + 55k <= 6006 -> k = 0..108.
    assert c.steps_fwd == 109


def test_a_walk_nobody_walks_ends_itself_after_ten_idle_minutes():
    # The walker stops after the step at 5530 and never walks again: auto-pause 4 s (416
    # samples) later, and 600 s (62400 samples at 104 Hz) after that last step the walk ends.
    assert C.IDLE_END_S == 600
    steps = stream(30, 55, 5531, [(10 ** 9, F)])
    c, ev = run(P.preset("one-one"), RATE, steps, 70000)
    assert ev[-2:] == [("pause", 5946, 0, "paused"), ("stop", 5530 + 62400, 1, "done")]
    assert c.stopped and c.idle_ended and not c.done
    assert c.active(70000) == 5530 + 208  # walking time as for a stop: up to the grace after the last step


def test_idle_end_waits_for_the_last_step_or_press_even_while_paused():
    # Paused with the button at 5000; the walker goes on walking until 7950 (steps while paused
    # count for nothing but show someone is there, and the 30th reminds of the pause): the end
    # comes 62400 samples after that step.
    steps = stream(30, 55, 8000, [(10 ** 9, F)])
    c, ev = run(P.preset("one-one"), RATE, steps, 80000, buttons=[(5000, "pause")])
    assert ev[1:] == [("pause", 5000, 1, "paused"), ("remind", 6630, 0, "paused"), ("stop", 7950 + 62400, 1, "done")]
    assert c.active(80000) == 5000  # nothing counted after the pause
    # Resumed at 30000 (a press), nobody walks: auto-pause 416 samples later, the end 62400 after the press.
    c, ev = run(P.preset("one-one"), RATE, steps, 100000, buttons=[(5000, "pause"), (30000, "resume")])
    assert ev[3:] == [("resume", 30000, 1, "start"), ("pause", 30416, 0, "paused"),
                      ("stop", 30000 + 62400, 1, "done")]
    # A stop with the button is not an idle end.
    c, ev = run(P.preset("one-one"), RATE, steps, 8000, buttons=[(6000, "stop")])
    assert ev[-1] == ("stop", 6000, 0, "none") and not c.idle_ended


# ---- wrong direction ----

def test_wrong_direction_cue_after_four_steps_then_quiet_until_walking_right():
    # five-one; in the first backward minute (31200..37440) the walker goes on forward until
    # 33000, then backward until 35000, then forward again.
    bounds = [(32999, F), (34999, B), (37439, F), (68639, F), (74879, B), (10 ** 9, F)]
    steps = stream(30, 55, 80000, bounds)
    c, ev = run(P.preset("five-one"), RATE, steps, 80000)
    wrong = [e for e in ev if e[0] == "wrong_direction"]
    # Steps at 31215, 31270, 31325, 31380 fall in the 2 s (208 samples) settle time; the 4th
    # counted one is 31600. After 36 right steps (>= 10) the cue is armed again: forward from
    # 35010, the 4th is 35175. The rest of that minute forward gives no third cue.
    assert wrong == [("wrong_direction", 31600, 1, "wrong_direction"), ("wrong_direction", 35175, 1, "wrong_direction")]
    assert switches(ev)[:2] == [("segment", 31200, "switch_backward"), ("segment", 37440, "switch_forward")]
    assert c.wrong_cues == 2


# 5 s forward, then 10 min backward: a step every 52 samples (0.5 s) from 52, forward until the
# switch at 520; after it the walker's steps in `after`, from 572. The switch's cue comes at the
# update of the batch ending at 520, so steps before 728 (its 2 s settle time) do not count.
def _after_the_switch(after):
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 5},
                                                  {"direction": "backward", "time_s": 600}]})
    assert prog["wrong_direction_steps"] == 4  # the documented default
    steps = [(52 * k, F) for k in range(1, 11)] + [(520 + 52 * (i + 1), d) for i, d in enumerate(after)]
    c, ev = run(prog, RATE, steps, steps[-1][0] + 104)
    assert switches(ev) == [("segment", 520, "switch_backward")]
    return c, [s for name, s, a, cue in ev if name == "wrong_direction"]


def test_a_stumbling_walker_gets_one_wrong_direction_cue():
    # turned round (5 steps backward, the last at 780), the walker keeps stumbling: 4 steps
    # forward, 3 backward, six times over. The cue comes at the 4th wrong step in a row, the
    # first round's 4th (index 8 of `after`); no round has 10 right steps in a row to re-arm it.
    after = [B] * 5 + ([F] * 4 + [B] * 3) * 6
    c, wrong = _after_the_switch(after)
    assert wrong == [520 + 52 * 9] and c.wrong_cues == 1


def test_the_wrong_direction_cue_re_arms_after_ten_right_steps_in_a_row():
    # after the cue, 9 right steps are not enough (the next 4 wrong give none); 10 are (the
    # next 4 wrong give it at their 4th)
    assert C.REARM_STEPS == 10
    after = [B] * 5 + [F] * 4 + [B] * 9 + [F] * 4 + [B] * 10 + [F] * 4 + [B] * 3
    c, wrong = _after_the_switch(after)
    first = 5 + 3                    # index in `after` of the first run's 4th wrong step ...
    second = first + 9 + 4 + 10 + 4  # ... and of the third run's (after 9 right, 4 wrong, 10 right)
    assert wrong == [520 + 52 * (first + 1), 520 + 52 * (second + 1)] and c.wrong_cues == 2


def test_the_turning_time_after_a_step_segment_s_cue_runs_from_the_cue():
    # 20 steps forward, then 20 backward. A step every 55 samples from 55, each called 220
    # samples (~2 s) after its contact, as the board's classifier calls them. The 20th forward
    # step (contact 1100) ends the segment, but the cue can only be given when that step is
    # called: in the batch ending at 1326. The walker turns 2 s (208 samples) after feeling it;
    # the forward steps up to 1485 are the turning round the settle time is there for, and
    # counted from the contact (to 1308) they gave a wrong-direction buzz at the 4th of them.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "steps": 20},
                                                  {"direction": "backward", "steps": 20}]})
    steps = stream(55, 55, 3000, [(1530, F), (10 ** 9, B)])
    c, ev = run(prog, RATE, steps, 3200, delay=220)
    assert switches(ev) == [("segment", 1100, "switch_backward"), ("done", 1485 + 55 * 20, "done")]
    assert [e for e in ev if e[0] == "wrong_direction"] == [] and c.wrong_cues == 0
    # a walker who does not turn gets the cue at the 4th step after those 2 s (1326 + 208)
    steps = stream(55, 55, 3000, [(10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 3200, delay=220)
    assert [e[:2] for e in ev if e[0] == "wrong_direction"] == [("wrong_direction", 1705)]


def test_a_walker_turning_round_after_the_resume_press_gets_no_wrong_direction_cue():
    # 10 s forward, then 10 min backward. Paused with the button at 2000 to cross a road walking
    # forward, the walker presses resume at 3000 (one long buzz: go on) and turns round to walk
    # backward again; the forward steps up to 3220 are that turning, as after a switch buzz, and
    # they gave four quick buzzes at the 4th of them.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 10},
                                                  {"direction": "backward", "time_s": 600}]})
    buttons = [(2000, "pause"), (3000, "resume")]
    steps = stream(30, 55, 5000, [(1099, F), (1999, B), (3220, F), (10 ** 9, B)])
    c, ev = run(prog, RATE, steps, 5000, buttons=buttons)
    assert [e for e in ev if e[0] == "wrong_direction"] == [] and c.wrong_cues == 0
    # one who walks on forward gets it at the 4th step after the 2 s from the resume's batch (3016)
    steps = stream(30, 55, 5000, [(1099, F), (1999, B), (10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 5000, buttons=buttons)
    assert [e[:2] for e in ev if e[0] == "wrong_direction"] == [("wrong_direction", 3440)]


def test_wrong_direction_cue_can_be_switched_off():
    prog = P.validate(dict(P.preset("five-one"), wrong_direction_steps=0))
    steps = stream(30, 55, 40000, [(10 ** 9, F)])
    c, ev = run(prog, RATE, steps, 40000)
    # the whole backward minute walked forward (114 steps), and never a cue
    assert c.wrong_cues == 0 and not [e for e in ev if e[0] == "wrong_direction"]
    assert switches(ev)[:2] == [("segment", 31200, "switch_backward"), ("segment", 37440, "switch_forward")]


def test_a_new_segment_rearms_the_wrong_direction_cue():
    # 1/1 intervals; the walker never walks backward: a cue in every backward minute, none in forward ones.
    steps = stream(30, 55, 80000, [(10 ** 9, F)])
    c, ev = run(P.preset("one-one"), RATE, steps, 80000)
    wrong = [(s, a) for name, s, a, cue in ev if name == "wrong_direction"]
    # Backward minutes start at 12480 + 12480 i (plan entries 1, 3, ...). Steps in the first
    # 208 samples (settle time) do not count; the cue comes on the 4th step after that.
    expect = []
    for i in range(5):
        start = 12480 + 12480 * i
        k = -(-(start + 208 - 30) // 55)           # first step inside, after the settle time
        expect.append((30 + 55 * (k + 3), 1 + 2 * i))
    assert wrong == expect


# ---- parity and allocation in the real MicroPython VM ----

PARITY = SIM + r'''
p = program.preset("five-one")
steps = stream(30, 55, 80000, [(32999, 1), (34999, 2), (37439, 1), (68639, 1), (74879, 2), (10 ** 9, 1)])
gap = [s for s in steps if not (40000 <= s[0] < 45000)]
c, ev = run(p, 104, gap, 80000, batch=104, delay=110, buttons=[(50000, "pause"), (52000, "resume")])
for e in ev:
    print(e)
print(c.segment, c.seg_steps, c.steps_fwd, c.steps_back, c.active(80000))
b = program.preset("block")
c, ev = run(b, 52, stream(15, 28, 40000, [(15 + 28 * 142, 1), (15 + 28 * 365, 2), (10 ** 9, 1)]), 40000, batch=13)
for e in ev:
    print(e)
print(c.segment, c.seg_steps, c.steps_fwd, c.steps_back, c.done)
c, ev = run(p, 104, stream(30, 55, 5531, [(10 ** 9, 1)]), 70000, batch=104)
print(ev[-2:], c.idle_ended, c.active(70000))
walked = stream(30, 55, 12000, [(10 ** 9, 1)]) + stream(14000, 55, 30000, [(10 ** 9, 1)])
c, ev = run(p, 104, walked, 30000, batch=21, delay=110, seen_delay=68, buttons=[(5000, "pause"), (25000, "resume")])
print([e for e in ev if e[0] in ("pause", "resume", "remind")], c.active(30000))
tt = program.validate({"version": 1, "segments": [{"direction": "forward", "steps": 20},
                                                  {"direction": "backward", "time_s": 10}]})
c, ev = run(tt, 104, stream(55, 55, 4000, [(1100, 1), (10 ** 9, 2)]), 4000, delay=220, seen_delay=68)
print(ev, c.active(4000))
c, ev = run(tt, 104, stream(55, 55, 1101, [(10 ** 9, 1)]) + stream(2000, 55, 2500, [(10 ** 9, 1)]), 2600,
            batch=21, delay=220, seen_delay=68, buttons=[(2100, "pause"), (2300, "resume")])
print(ev, c.seg_steps)
'''


def test_same_cues_on_cpython_and_in_the_micropython_vm(mp_run, capsys):
    vm = mp_run(PARITY)
    exec(compile(PARITY, "parity", "exec"), {})
    host = capsys.readouterr().out
    assert vm == host
    assert "('pause', 40376, 0, 'paused')" in vm      # last step before the gap 39960, + 416 samples
    assert "('pause', 50000, 1, 'paused')" in vm
    assert "[('pause', 5946, 0, 'paused'), ('stop', 67930, 1, 'done')] True 5738" in vm  # 5530 + 62400
    # walking on while paused with the button: reminded at 6630, 15595 and 21865 (as in
    # test_reminders_come_at_most_once_a_minute_and_each_after_30_steps_in_a_row), none after the resume
    assert ("[('pause', 5000, 1, 'paused'), ('remind', 6630, 0, 'paused'), ('remind', 15595, 0, 'paused'), "
            "('remind', 21865, 0, 'paused'), ('resume', 25000, 1, 'start')]") in vm
    # a timed segment after a step segment ends 1040 samples after its last step (1100), as in
    # test_a_timed_segment_after_a_step_segment_starts_at_its_last_step_with_steps_seen_late
    assert "('done', 2140, 0, 'done')" in vm


HEAP = r'''
import gc, micropython
from firmware import coach, program
from firmware.walkplan import expand
from array import array

def walk(c, out, n, idle):
    # The walker follows the coach (and goes the wrong way for a while in each segment).
    t = 30
    i = 0
    while i < n:
        d = c.seg_dir
        if (i % 97) < 6:
            d = 3 - d
        if i == 1000:
            c.pause(t)    # the walker walks on, paused: reminded
        elif i == 1200:
            c.resume(t)
        c.on_step(t, d)
        t += 55
        if i % 2 == 0:
            c.update(t)
        while c.available():
            k = c.pop()
            out[c.ev_kind[k]] += 1
        i += 1
    c.pause(t)
    c.resume(t + 500)
    c.update(t + 1000)
    c.update(t + 2000)
    if idle:
        c.update(t + 2000 + 62400)  # nobody walks: the walk ends itself
    else:
        c.stop(t + 3000)
    while c.available():
        out[c.ev_kind[c.pop()]] += 1

def check(prog, idle=False):
    c = coach.Coach(expand(prog), 104)
    c.start(0)
    out = array("i", [0] * 9)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    micropython.heap_lock()
    try:
        walk(c, out, 4000, idle)
        err = "ok" if c.stopped and c.idle_ended == idle else "NOT STOPPED"
    except MemoryError:
        err = "ALLOCATED"
    micropython.heap_unlock()
    after = gc.mem_alloc()
    gc.enable()
    print(err, after - before, list(out))

check(program.preset("five-one"))
check(program.preset("block"))
check(program.validate({"version": 1, "segments": [{"direction": "forward", "steps": 30},
                                                    {"direction": "backward", "time_s": 20}], "repeat": 40}))
check(program.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600},
                                                    {"direction": "backward", "time_s": 600}], "repeat": 10}),
      idle=True)  # not done after 4000 steps: nobody walks, and it ends itself
'''


def test_no_heap_allocation_per_step_or_update_in_the_vm(mp_run):
    lines = mp_run(HEAP).splitlines()
    assert len(lines) == 4
    for line in lines:
        status, delta, counts = line.split(" ", 2)
        assert status == "ok" and delta == "0", line
        kinds = eval(counts)  # our own VM output: a list of ints
        assert kinds[C.EV_SEGMENT] > 0 and kinds[C.EV_WRONG] > 0 and kinds[C.EV_DONE] + kinds[C.EV_STOP] >= 1
        assert kinds[C.EVENT_NAMES.index("remind")] == 2, line  # 200 steps while paused: at the 30th and a minute (114 steps) later


def test_event_ring_overflow_drops_the_oldest_and_counts_it():
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "steps": 1},
                                                  {"direction": "backward", "steps": 1}], "repeat": 20})
    c = C.Coach(expand(prog), RATE)
    c.start(0)
    for k in range(40):
        c.on_step(10 + k, F if k % 2 == 0 else B)
    assert c.available() == 16 and c.events.dropped == 40 + 1 - 16     # start + 39 segments + done
    assert c.done
    # the newest 16 are kept: segments 25..39, then done
    got = []
    while c.available():
        k = c.pop()
        got.append((c.ev_kind[k], c.ev_arg[k]))
    assert got == [(C.EV_SEGMENT, i) for i in range(25, 40)] + [(C.EV_DONE, 0)]


def test_rate_must_be_whole_hz():
    with pytest.raises(ValueError, match="rate_hz"):
        C.Coach(expand(P.preset("five-one")), 104.0)
