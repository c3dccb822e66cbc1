"""The firmware's one event-queue policy (eventring.EventRing): full -> the oldest is dropped."""

from retrowalk.firmware.eventring import EventRing


def test_fifo_order_and_wrap_around():
    r = EventRing(4)
    data = [None] * 4
    out = []
    for base in range(0, 15, 3):  # three in, three out: the slots wrap round a 4-slot ring
        for v in range(base, base + 3):
            data[r.push()] = v
        out += [data[r.pop()] for _ in range(3)]
    assert out == list(range(15)) and r.count == 0 and r.dropped == 0


def test_full_ring_keeps_the_newest_events():
    r = EventRing(3)
    data = [None] * 3
    for v in range(7):
        data[r.push()] = v
    assert r.count == 3 and r.dropped == 4
    assert [data[r.pop()] for _ in range(3)] == [4, 5, 6]
