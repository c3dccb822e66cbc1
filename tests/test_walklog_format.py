"""Walk log format on CPython: round trip, hand-built bytes, truncation, corruption, fuzz."""

import binascii
import io
import random
import struct

import pytest
from hypothesis import given, settings, strategies as st



from retrowalk.firmware import logformat as F
from retrowalk.firmware import logheader
from retrowalk.firmware import capture as C
from retrowalk.firmware import walklog as W
from retrowalk.firmware import logreader as R


class Recorder(io.BytesIO):
    """A file that remembers where each write() ended (= frame boundaries)."""

    def __init__(self):
        super().__init__()
        self.ends = []

    def write(self, b):
        n = super().write(b)
        self.ends.append(self.tell())
        return n

    def close(self):
        pass


HEADER = dict(board_id=b"\xe6\x61\x4c\x30\x0b\x2d\x17\x23", chip="LSM6DSOX",
              start=(2025, 4, 30, 17, 5, 59), firmware="0.1.0", program_name="5/1 x 3",
              program=b'{"warmup":300,"repeat":3}', walk_no=42)


def frame(ftype, data):
    """A frame built from the format description (independent of walklog's encoder)."""
    body = bytes([ftype]) + data
    head = struct.pack("<H", len(body))
    crc = binascii.crc_hqx(head + body, 0xFFFF)
    return b"\xf5\xa7" + head + body + struct.pack("<H", crc)


def scripted_walk(flush_after=()):
    """Write a walk using every record type; -> (bytes, frame ends, records per frame).

    The expected record tuples are written down here from the calls made, and the walk is
    flushed explicitly after the calls whose index is in flush_after (pause() also flushes).
    """
    f = Recorder()
    w = W.WalkWriter(f, 104, flush_seconds=10**6, **HEADER)
    frames = [[]]  # records per frame still to be written
    calls = [
        (lambda: w.segment(0, 0, F.SEG_WARMUP, 300, F.UNIT_SECONDS),
         (0, "segment", 0, "warmup", 300, "s")),
        (lambda: w.step(50, False, 77), (50, "step", "forward", 77)),
        (lambda: w.step(101, False, 100), (101, "step", "forward", 100)),
        (lambda: w.cue(150, 3), (150, "cue", 3)),
        (lambda: w.step(140, True, 0), (140, "step", "backward", 0)),  # before the cue
        (lambda: w.step(1140, True, 55), (1140, "step", "backward", 55)),  # long gap
        (lambda: w.calibration(1200, (4090, -120, 7)), (1200, "calibration", [4090, -120, 7])),
        (lambda: w.segment(1300, 1, F.SEG_BACKWARD, 200, F.UNIT_STEPS),
         (1300, "segment", 1, "backward", 200, "steps")),
        (lambda: w.step(1267, False, 64), (1267, "step", "forward", 64)),
        (lambda: w.overrun(1310, 17), (1310, "overrun", 17)),
        (lambda: w.error(1320, 5, "I2C NACK at 0x6a"), (1320, "error", 5, "I2C NACK at 0x6a")),
        (lambda: w.step(1390, False, 150), (1390, "step", "forward", 100)),  # clamped
        (lambda: w.pause(1500), (1500, "pause")),
        (lambda: w.resume(2600), (2600, "resume")),
        (lambda: w.step(2650, True, 90), (2650, "step", "backward", 90)),
        (lambda: w.segment(2700, 2, F.SEG_COOLDOWN, 150, F.UNIT_METRES),
         (2700, "segment", 2, "cooldown", 150, "m")),
        (lambda: w.step(2760, False, 91), (2760, "step", "forward", 91)),
        (lambda: w.no_facing(2780, 8), (2780, "no_facing", 8)),
    ]
    for i, (call, rec) in enumerate(calls):
        call()
        frames[-1].append(rec)
        if rec[1] == "pause" or i in flush_after:
            if rec[1] != "pause":
                w.flush()
            frames.append([])
    # totals: 5 forward and 3 backward steps above; active = 2800 - (2600 - 1500) paused
    w.end(2800, F.END_STOPPED, 26950)
    frames[-1].append((2800, "end", 5, 3, 1700, "stopped", 26950))
    w.close()
    return f.getvalue(), f.ends, frames


def test_crc16_is_ccitt_false():
    assert F.crc16(b"123456789", 0, 9) == 0x29B1  # the catalogued check value
    data = bytes(range(256)) * 3
    assert F.crc16(data, 5, 700) == binascii.crc_hqx(data[5:700], 0xFFFF)


def test_round_trip_all_record_types():
    data, ends, frames = scripted_walk(flush_after={3, 9})
    log = R.read(data)
    assert log.warnings == []
    assert log.kind == "walk" and log.version == 1
    assert log.records == [r for fr in frames for r in fr]
    assert log.complete and log.end_reason == "stopped"
    h = log.header
    assert h["board_id"] == "e6614c300b2d1723"
    assert h["chip"] == "LSM6DSOX" and h["firmware"] == "0.1.0" and h["rate_hz"] == 104
    assert h["start"] == [2025, 4, 30, 17, 5, 59]
    assert h["program_name"] == "5/1 x 3" and h["program"] == '{"warmup":300,"repeat":3}'
    assert h["mount"] is None and h["walk_no"] == 42
    d = log.as_dict()
    assert d["records"][1] == {"t": 50, "type": "step", "direction": "forward", "confidence": 77}
    assert d["records"][-1]["reason"] == "stopped"


@pytest.mark.parametrize("text, kept", [
    ("x" + "\u00e9" * 30, "x" + "\u00e9" * 19),  # 41 bytes: the 40th is half an e-acute, dropped
    ("R\u00fcckw\u00e4rts " + "a" * 27 + "\u00fcx", "R\u00fcckw\u00e4rts " + "a" * 27),  # 12 + 27 bytes, then half a u-umlaut
    ("ab" + "\u20ac" * 13, "ab" + "\u20ac" * 12),  # the 13th euro sign's first 2 of its 3 bytes
])
def test_an_error_text_cut_inside_a_character_keeps_the_characters_before_it(text, kept):
    # the writer cuts an error's text at ERROR_TEXT_MAX bytes, which may fall inside a character:
    # the reader drops that character's part, not every letter beyond ASCII
    f = Recorder()
    w = W.WalkWriter(f, 104, flush_seconds=10**6, **HEADER)
    w.error(10, 2, text)
    w.end(20)
    assert len(kept.encode()) <= F.ERROR_TEXT_MAX < len(text.encode())
    assert [r for r in R.read(f.getvalue()).records if r[1] == "error"] == [(10, "error", 2, kept)]


def test_file_layout_matches_the_documented_bytes():
    f = Recorder()
    w = W.WalkWriter(f, 52, mount=(-4096, 0, 1), flush_seconds=10**6)
    w.step(100, False, 90)  # 100 samples after base 0: compact
    w.step(180, True, 100)  # 80 after the previous step
    w.cue(190, 7)
    w.flush()
    data = f.getvalue()
    # magic, version, then the header: tag + length + value per field, in table order;
    # empty text fields are kept (length 0), start is None so it is left out.
    fields = (bytes([1, 0, 2, 0, 3, 0, 4, 0]) + bytes([5, 6]) + struct.pack("<3h", -4096, 0, 1)
              + bytes([7, 1, 52, 8, 0, 9, 1, 0]))
    head = b"RWLG\x01" + frame(F.FRAME_WALK_HEADER, fields)
    assert data[:len(head)] == head and f.ends[0] == len(head)
    compact1 = 0x8000 | (90 << 7) | 100
    compact2 = 0x8000 | 0x4000 | (100 << 7) | 80
    # cue at 190: zigzag(190 - base 0) = 380 as a varint (0xFC 0x02), then the pattern
    cue = bytes([F.REC_CUE, 3, 0x80 | (380 & 0x7F), 380 >> 7, 7])
    body = struct.pack("<I", 0) + struct.pack(">HH", compact1, compact2) + cue
    assert data[len(head):] == frame(F.FRAME_RECORDS, body)


def test_hand_built_file_decodes_including_unknown_types():
    hdr = bytes([7, 1, 104, 8, 3]) + b"ISM" + bytes([99, 2, 0xAB, 0xCD])  # tag 99 unknown
    recs = (struct.pack("<I", 1000)  # base: the last step before this frame was at 1000
            + struct.pack(">H", 0x8000 | (12 << 7) | 50)  # compact: 50 later, fwd, conf 12
            + bytes([0x40, 3, 2 * 20, 0xEE, 0xFF])  # unknown type at base + 20, 2 more bytes
            + bytes([F.REC_STEP, 2, 11, 0x80 | 33])  # long step: zigzag 11 = -6, bwd, conf 33
            + struct.pack(">H", 0x8000 | (1 << 7) | 6))  # compact: 6 after that step
    data = b"RWLG\x01" + frame(F.FRAME_WALK_HEADER, hdr) + frame(F.FRAME_RECORDS, recs)
    data += frame(0x7E, b"future frame type")
    log = R.read(data)
    assert log.header["rate_hz"] == 104 and log.header["chip"] == "ISM"
    assert log.header["tag99"] == "abcd"
    assert log.records == [
        (1050, "step", "forward", 12),
        (1020, "unknown", 0x40, "eeff"),
        (994, "step", "backward", 33),
        (1000, "step", "forward", 1),
    ]
    assert len(log.warnings) == 1 and "unknown type 126" in log.warnings[0]
    assert not log.complete and log.end_reason == "interrupted"


def test_header_keeps_program_up_to_the_limit():
    big = b"x" * (F.PROGRAM_MAX + 1)
    for prog, kept in ((b"y" * F.PROGRAM_MAX, "y" * F.PROGRAM_MAX), (big, None)):
        f = Recorder()
        W.WalkWriter(f, 104, program_name="long", program=prog)
        h = R.read(f.getvalue()).header
        assert h["program"] == kept and h["program_name"] == "long"


def expected_at_cut(data, ends, frames, cut):
    """Records the reader must return from data[:cut]: those of frames wholly before cut."""
    # ends[0] = magic + header frame; ends[1:] close the record frames in order.
    out = []
    for end, recs in zip(ends[1:], [fr for fr in frames if fr]):
        if end <= cut:
            out.extend(recs)
    return out


def test_truncation_at_every_byte():
    data, ends, frames = scripted_walk(flush_after={1, 3, 5, 8, 10})
    assert len(ends) == 1 + len([fr for fr in frames if fr])
    for cut in range(len(data) + 1):
        log = R.read(data[:cut])
        assert log.records == expected_at_cut(data, ends, frames, cut), cut
        assert (log.header["chip"] == "LSM6DSOX") == (cut >= ends[0]), cut
        assert log.complete == (cut == len(data))
        if cut in ends or cut == 5:
            assert not [x for x in log.warnings if "skipped" in x], cut
        elif cut > 5:  # the cut frame is named by the offset where it starts
            start = max([5] + [e for e in ends if e < cut])
            assert ("byte %d: last %d bytes are an incomplete or damaged frame, skipped"
                    % (start, cut - start)) in log.warnings, cut


def frame_of(ends, offset):
    """Index of the write (0 = magic + header) holding byte `offset`."""
    for i, e in enumerate(ends):
        if offset < e:
            return i
    raise AssertionError(offset)


def test_single_byte_corruption_anywhere_loses_only_its_frame():
    data, ends, frames = scripted_walk(flush_after={1, 3, 5, 8, 10})
    groups = [fr for fr in frames if fr]
    for off in range(len(data)):
        for mask in (0x01, 0x5A, 0xFF):
            bad = bytearray(data)
            bad[off] ^= mask
            log = R.read(bytes(bad))
            hit = frame_of(ends, off)
            want = [r for i, g in enumerate(groups) if i + 1 != hit for r in g]
            assert log.records == want, (off, mask)
            assert log.warnings, (off, mask)
            if off >= 5 and hit == 0:
                assert log.kind is None and log.header["chip"] is None


def test_random_multi_byte_damage_keeps_untouched_frames():
    data, ends, frames = scripted_walk(flush_after={1, 3, 5, 8, 10})
    groups = [fr for fr in frames if fr]
    rng = random.Random(1234)
    for _ in range(300):
        bad = bytearray(data)
        hit = set()
        for _ in range(rng.randint(1, 3)):
            off = rng.randrange(len(data))
            n = rng.randint(1, 2)  # a burst of <= 16 bits: always caught by the CRC
            for k in range(off, min(off + n, len(data))):
                bad[k] ^= rng.randint(1, 255)
                hit.add(frame_of(ends, k))
        log = R.read(bytes(bad))
        want = [r for i, g in enumerate(groups) if i + 1 not in hit for r in g]
        assert log.records == want
        assert log.warnings


def test_garbage_inserted_between_frames_is_skipped_with_its_offset():
    data, ends, frames = scripted_walk(flush_after={3})
    junk = b"\x00\xf5\xa7\xff\xff" + bytes(range(40))
    mixed = data[:ends[1]] + junk + data[ends[1]:]
    log = R.read(mixed)
    assert log.records == [r for g in frames for r in g]
    assert log.warnings == ["byte %d: %d bytes damaged or not a frame, skipped"
                            % (ends[1], len(junk))]


def test_power_cut_mid_walk_reads_as_interrupted():
    f = Recorder()
    w = W.WalkWriter(f, 104, flush_seconds=5, **HEADER)
    t = 0
    for i in range(100):
        t += 52
        w.step(t, False, 80)
        w.poll(t + 10)
    flushed = f.getvalue()  # what a littlefs file shows after a cut: the flushed part
    log = R.read(flushed)
    steps = [r for r in log.records if r[1] == "step"]
    # every step older than 5 s (520 samples) before the last poll was flushed
    assert steps and steps[-1][0] >= t + 10 - 520 - 52
    assert [r[0] for r in steps] == list(range(52, steps[-1][0] + 1, 52))
    assert not log.complete and log.end_reason == "interrupted" and log.warnings == []


def test_flush_policy_every_five_seconds_and_at_pause():
    f = Recorder()
    w = W.WalkWriter(f, 104, **HEADER)
    base = len(f.ends)
    w.step(52, False, 90)
    w.poll(52 + 519)
    assert len(f.ends) == base  # 519 samples after the first pending record: not yet
    w.poll(52 + 520)
    assert len(f.ends) == base + 1
    w.poll(5000)
    assert len(f.ends) == base + 1  # nothing pending: no empty frames
    w.step(5010, False, 90)
    w.pause(5100)
    assert len(f.ends) == base + 2


def test_realistic_walk_costs_at_most_4_bytes_per_step():
    f = Recorder()
    rng = random.Random(7)
    w = W.WalkWriter(f, 104, **HEADER)
    t = 0
    steps = 0
    w.segment(0, 0, F.SEG_WARMUP, 120, F.UNIT_SECONDS)
    while t < 10 * 60 * 104:
        t += rng.randint(46, 62) if rng.random() > 0.02 else rng.randint(130, 300)
        w.step(t, (t // 6240) % 2 == 1, rng.randint(40, 100))
        steps += 1
        if steps % 120 == 0:
            w.segment(t, steps // 120, F.SEG_BACKWARD, 60, F.UNIT_SECONDS)
            w.cue(t, 2)
        w.poll(t + 20)
    w.end(t + 30, F.END_FINISHED, 600000)
    size = len(f.getvalue())
    assert 1000 < steps < 1200  # mean gap ~57 samples over 62400 samples
    assert size / steps <= 4.0, size / steps


def test_budget_stops_before_the_limit_and_ends_the_log():
    f = Recorder()
    budget = 3000
    w = W.WalkWriter(f, 104, budget=budget, **HEADER)
    t = 0
    status = W.STATUS_OK
    given = 0
    while status == W.STATUS_OK:
        t += 52
        w.step(t, False, 90)
        given += 1
        status = w.poll(t)
    assert status == W.STATUS_FULL and w.ended
    w.step(t + 52, False, 90)
    assert w.dropped == 1
    assert w.end(t + 100) == W.STATUS_FULL  # a second end is refused, not written
    size = len(f.getvalue())
    # Records frames are <= 256 bytes and the writer stops while 2 x 256 bytes are left, so
    # the file ends at least 256 bytes below the budget, and less than 768 below it.
    assert budget - 768 < size <= budget - 256
    log = R.read(f.getvalue())
    assert log.complete and log.end_reason == "flash_full" and not log.warnings
    steps = [r for r in log.records if r[1] == "step"]
    assert len(steps) == given  # nothing accepted before the stop was lost
    assert log.end[2] == given


def test_writer_refuses_to_start_without_room():
    with pytest.raises(OSError):
        W.WalkWriter(Recorder(), 104, budget=300, **HEADER)


def test_capture_round_trip_with_overrun_gap():
    f = Recorder()
    c = C.CaptureWriter(f, 104, accel_fs_g=4, gyro_fs_dps=500, label="stairs, backward",
                        board_id=b"\x01\x02", chip="LSM6DS3TR-C", start=(2025, 1, 2, 3, 4, 5))
    from array import array
    rng = random.Random(3)
    expect = []
    idx = 0
    t_over = None
    for batch in range(30):
        n = rng.randint(1, 40)
        buf = array("h", [rng.randint(-32768, 32767) for _ in range(6 * n)])
        c.samples(buf, n)
        for i in range(n):
            expect.append((idx + i,) + tuple(buf[6 * i:6 * i + 6]))
        idx += n
        if batch == 12:
            c.overrun(0, 25)
            t_over = idx
            idx += 25
    c.end()
    data = f.getvalue()
    log = R.read(data)
    assert log.kind == "capture" and not log.warnings and log.complete
    assert log.header["label"] == "stairs, backward" and log.header["accel_fs_g"] == 4
    assert log.header["gyro_fs_dps"] == 500 and log.header["chip"] == "LSM6DS3TR-C"
    assert log.samples == len(expect)
    assert list(R.iter_samples(data)) == expect
    assert log.records == [(t_over, "overrun", 25), (idx, "end", 0, 0, idx, "finished", 0)]
    assert expect[-1][0] == idx - 1 and len(expect) == idx - 25
    # a cut capture keeps every complete samples frame
    cut = R.read(data[:len(data) // 2])
    got = list(R.iter_samples(data[:len(data) // 2]))
    assert got == expect[:len(got)] and len(got) >= 64 and cut.warnings


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_reader_never_raises_on_random_bytes(data):
    log = R.read(data)
    assert isinstance(log.warnings, list)
    list(R.iter_samples(data))
    log.as_dict()
    log.summary()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=80)), max_size=6))
def test_reader_never_raises_on_valid_frames_with_garbage_inside(parts):
    data = b"RWLG\x01" + b"".join(frame(t, body) for t, body in parts)
    log = R.read(data)
    log.as_dict()
    list(R.iter_samples(data))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_reader_never_raises_on_mutated_logs(draw):
    data, _, _ = scripted_walk(flush_after={2, 6})
    data = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 6))):
        op = draw.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw.draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw.draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw.draw(st.binary(max_size=12))
        elif data:
            del data[pos:pos + draw.draw(st.integers(1, 8))]
    log = R.read(bytes(data))
    log.as_dict()


def test_writer_rejects_unknown_header_fields_and_records_after_the_end():
    with pytest.raises(TypeError):
        W.WalkWriter(Recorder(), 104, board=b"\x01")  # a typo of board_id
    with pytest.raises(TypeError):
        C.CaptureWriter(Recorder(), 104, program=b"{}")  # a walk's field
    with pytest.raises(ValueError):
        logheader.encode_header(F.FRAME_WALK_HEADER, {"board": b"\x01"})
    f = Recorder()
    w = W.WalkWriter(f, 104)
    w.step(50, False, 90)
    w.end(60)
    w.step(100, False, 90)
    w.cue(101, 1)
    w.flush()
    assert w.dropped == 2
    log = R.read(f.getvalue())
    assert [r[1] for r in log.records] == ["step", "end"] and not log.warnings
