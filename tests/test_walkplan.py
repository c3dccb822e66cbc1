"""The walk plan: one expansion of a program, which the coach and the walk log both take."""

import json

from retrowalk.firmware import coach as C
from retrowalk.firmware import logformat as F
from retrowalk.firmware import program as P
from retrowalk.firmware.walkplan import expand


def test_one_one_is_a_forward_warm_up_then_five_backward_forward_pairs():
    # one-one: 2 min forward warm-up, then 1 min backward / 1 min forward, five times.
    plan = expand(P.preset("one-one"))
    assert plan.n == 11
    # three rows (warm-up, backward minute, forward minute); the ten entries after the warm-up
    # take turns between the second and the third
    assert list(plan.row) == [0] + [1, 2] * 5
    assert list(plan.kind) == [F.SEG_WARMUP, F.SEG_BACKWARD, F.SEG_FORWARD]
    assert list(plan.backward) == [0, 1, 0]
    assert set(plan.unit) == {F.UNIT_SECONDS}
    assert list(plan.amount) == [120000, 60000, 60000]  # ms
    assert list(plan.planned) == [120, 60, 60]  # the log's whole seconds


def test_a_program_repeated_a_hundred_times_keeps_a_byte_an_entry():
    # 2 segments x 100 and a cool-down: 201 entries, 3 rows; what the coach keeps is per row too.
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 30},
                                                  {"direction": "backward", "steps": 20}],
                       "repeat": 100, "cooldown": {"time_s": 60}})
    plan = expand(prog)
    assert plan.n == 201 and len(plan.row) == 201
    assert list(plan.row) == [0, 1] * 100 + [2]
    assert list(plan.kind) == [F.SEG_FORWARD, F.SEG_BACKWARD, F.SEG_COOLDOWN]
    assert len(plan.amount) == len(plan.planned) == len(plan.unit) == len(plan.backward) == 3
    c = C.Coach(plan, 104)
    assert list(c.plan_target) == [3120, 20, 6240]  # 30 s and 60 s at 104 Hz; 20 steps
    assert c.n_plan == 201


def test_distance_entries_keep_millimetres_and_the_log_gets_metres():
    plan = expand(P.preset("block"))  # 100 m forward / 100 m backward, three times
    assert set(plan.unit) == {F.UNIT_METRES} and plan.n == 6 and list(plan.row) == [0, 1] * 3
    assert list(plan.amount) == [100000] * 2 and list(plan.planned) == [100] * 2
    assert plan.stride_mm == (700, 450)  # the default strides, 0.70 m and 0.45 m


def test_fractions_cool_down_and_settings():
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 40.5},
                                                   {"direction": "backward", "steps": 30}],
                       "cooldown": {"direction": "backward", "distance_m": 12.25},
                       "pause_after_s": 2.5, "wrong_direction_steps": 0})
    plan = expand(prog)
    assert plan.n == 3 and list(plan.row) == [0, 1, 2]
    assert list(plan.kind) == [F.SEG_FORWARD, F.SEG_BACKWARD, F.SEG_COOLDOWN]
    assert list(plan.backward) == [0, 1, 1]  # a cool-down may be walked backward
    assert list(plan.unit) == [F.UNIT_SECONDS, F.UNIT_STEPS, F.UNIT_METRES]
    assert list(plan.amount) == [40500, 30, 12250]
    assert list(plan.planned) == [41, 30, 12]  # halves round up: 40.5 s -> 41; 12.25 m -> 12
    assert plan.pause_after_ms == 2500 and plan.wrong_direction_steps == 0
    c = C.Coach(plan, 104)
    # 40.5 s at 104 Hz = 4212 samples; 30 steps; 12.25 m / 0.45 m = 27.2 -> 28 backward steps
    assert list(c.plan_target) == [4212, 30, 28]


def test_the_same_plan_in_the_micropython_vm(mp_run):
    progs = [P.preset(name, "2026-01-05") for name in sorted(P.PRESETS)]
    code = ("import json\nfrom firmware.walkplan import expand\nfrom firmware.coach import Coach\n"
            "for p in json.loads(%r):\n    w = expand(p)\n    c = Coach(w, 52)\n"
            "    print(json.dumps([list(w.row), list(w.kind), list(w.backward), list(w.unit), list(w.amount),"
            " list(w.planned), list(c.plan_target)]))\n" % json.dumps(progs))
    host = []
    for p in progs:
        w = expand(p)
        host.append([list(w.row), list(w.kind), list(w.backward), list(w.unit), list(w.amount), list(w.planned),
                     list(C.Coach(w, 52).plan_target)])
    assert [json.loads(line) for line in mp_run(code).splitlines()] == host
