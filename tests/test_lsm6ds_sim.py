"""The simulated LSM6DS chip against the datasheet facts it claims to follow (CPython)."""

import pytest

from lsm6ds_helpers import CHIPS, PATTERN, TAGGED, due, sample, samples, sim_module

sim_lsm6ds = sim_module()
ADDR = 0x6A
PERIOD_104 = 1000000 / 104


def make(who, n=1000, **kw):
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource(samples(n)), clk, whoami=who, **kw)
    return clk, chip


def rd(chip, reg, n=1):
    return list(chip.readfrom_mem(ADDR, reg, n))


def wr(chip, reg, *values):
    chip.writeto_mem(ADDR, reg, bytes(values))


def s16(lo, hi):
    v = lo | hi << 8
    return v - 0x10000 if v & 0x8000 else v


def start_fifo(chip):
    """Accel + gyro at 104 Hz, both batched, continuous mode (register values per datasheet)."""
    wr(chip, 0x10, 0x48)  # CTRL1_XL: ODR 104 Hz, +-4 g
    wr(chip, 0x11, 0x44)  # CTRL2_G: ODR 104 Hz, 500 dps
    if chip.tagged:
        wr(chip, 0x09, 0x44)  # FIFO_CTRL3: BDR_GY = BDR_XL = 104 Hz
        wr(chip, 0x0A, 0x06)  # FIFO_CTRL4: continuous
    else:
        wr(chip, 0x08, 0x09)  # FIFO_CTRL3: gyro and accel, no decimation
        wr(chip, 0x0A, 0x26)  # FIFO_CTRL5: ODR_FIFO 104 Hz, continuous


@pytest.mark.parametrize("who,ctrl9", [(0x6C, 0xE0), (0x6B, 0xE0), (0x6A, 0xE0), (0x69, 0x38)])
def test_whoami_and_reset_values(who, ctrl9):
    _, chip = make(who)
    assert rd(chip, 0x0F) == [who]
    assert rd(chip, 0x12) == [0x04]  # CTRL3_C: IF_INC set after reset
    assert rd(chip, 0x18) == [ctrl9]
    assert rd(chip, 0x10, 2) == [0, 0]  # both sensors powered down
    assert rd(chip, 0x19) == [0x38 if who == 0x69 else 0]


def test_unknown_whoami_is_refused():
    with pytest.raises(ValueError, match="whoami"):
        make(0x47)


@pytest.mark.parametrize("call", ["readfrom_mem_into", "writeto_mem", "writeto", "readfrom_into"])
def test_wrong_address_is_a_nack(call):
    _, chip = make(0x6C)
    with pytest.raises(OSError) as e:
        if call == "readfrom_mem_into":
            chip.readfrom_mem_into(0x6B, 0x0F, bytearray(1))
        elif call == "writeto_mem":
            chip.writeto_mem(0x6B, 0x10, b"\x40")
        elif call == "writeto":
            chip.writeto(0x6B, b"\x0f")
        else:
            chip.readfrom_into(0x6B, bytearray(1))
    assert e.value.args[0] == 19  # ENODEV, as machine.I2C raises
    assert chip.scan() == [ADDR]


def test_write_to_read_only_register_is_ignored():
    _, chip = make(0x6C)
    wr(chip, 0x0F, 0x00)
    assert rd(chip, 0x0F) == [0x6C]


@pytest.mark.parametrize("who", CHIPS)
def test_sw_reset_restores_defaults_and_clears_itself(who):
    clk, chip = make(who)
    start_fifo(chip)
    clk.advance(100000)
    assert chip.fifo_level > 0
    wr(chip, 0x12, 0x05)  # SW_RESET
    assert rd(chip, 0x12) == [0x05]  # still resetting on the first poll
    assert rd(chip, 0x12) == [0x04]  # done: back to the reset value
    assert rd(chip, 0x10, 2) == [0, 0]
    assert chip.fifo_level == 0
    clk.advance(100000)
    assert chip.samples == 0  # ODR is 0 again: no sampling


def test_if_inc_controls_burst_address_increment():
    _, chip = make(0x6C)
    wr(chip, 0x10, 0x12)
    assert rd(chip, 0x0F, 2) == [0x6C, 0x12]
    wr(chip, 0x12, 0x00)  # IF_INC off: the burst keeps reading the same register
    assert rd(chip, 0x0F, 3) == [0x6C, 0x6C, 0x6C]


@pytest.mark.parametrize("rate_code,rate", [(0x2, 26), (0x3, 52), (0x4, 104)])
def test_samples_follow_the_odr_and_the_clock(rate_code, rate):
    clk, chip = make(0x6C, n=2000)
    wr(chip, 0x10, rate_code << 4)
    for t in (1, 9000, 500000, 3 * 1000000 + 7):
        clk.us = t
        rd(chip, 0x1E)  # any transaction brings the chip up to date
        assert chip.samples == due(t, rate)
        assert chip.source.index == chip.samples  # one source sample per ODR tick


def test_outputs_hold_the_latest_sample_gyro_then_accel():
    clk, chip = make(0x6C)
    start_fifo(chip)
    clk.advance(int(3.5 * PERIOD_104))  # samples 0, 1, 2
    raw = rd(chip, 0x22, 12)
    values = [s16(raw[i], raw[i + 1]) for i in range(0, 12, 2)]
    ax, ay, az, gx, gy, gz = sample(2)
    assert values == [gx, gy, gz, ax, ay, az]


def test_status_reg_flags_new_data_until_read():
    clk, chip = make(0x6C)
    start_fifo(chip)
    clk.advance(int(1.5 * PERIOD_104))
    assert rd(chip, 0x1E) == [0x03]  # XLDA | GDA
    rd(chip, 0x28, 6)
    assert rd(chip, 0x1E) == [0x02]
    rd(chip, 0x22, 6)
    assert rd(chip, 0x1E) == [0x00]


@pytest.mark.parametrize("bdu", [True, False])
def test_bdu_freezes_an_output_pair_between_lsb_and_msb(bdu):
    clk = sim_lsm6ds.ManualClock()
    src = sim_lsm6ds.ListSource([(0x0101, 0, 0, 0, 0, 0), (0x0202, 0, 0, 0, 0, 0)])
    chip = sim_lsm6ds.SimLSM6DS(src, clk)
    wr(chip, 0x12, 0x44 if bdu else 0x04)
    wr(chip, 0x10, 0x40)
    clk.advance(int(1.5 * PERIOD_104))
    lsb = rd(chip, 0x28)[0]  # OUTX_L_A of the first sample
    clk.advance(int(PERIOD_104))  # second sample arrives between the two reads
    msb = rd(chip, 0x29)[0]
    assert lsb == 0x01
    assert msb == (0x01 if bdu else 0x02)
    clk.advance(int(PERIOD_104))  # data ended: the chip keeps outputting the last acceleration
    assert rd(chip, 0x28, 2) == [0x02, 0x02]  # after the MSB read the pair updates again


def test_source_end_means_standing_still():
    clk = sim_lsm6ds.ManualClock()
    src = sim_lsm6ds.ListSource([(1, 2, 3, 4, 5, 6), (100, -200, 8000, 50, -60, 70)])
    chip = sim_lsm6ds.SimLSM6DS(src, clk)
    start_fifo(chip)
    clk.advance(int(5.5 * PERIOD_104))
    raw = rd(chip, 0x22, 12)
    assert [s16(raw[i], raw[i + 1]) for i in range(0, 12, 2)] == [0, 0, 0, 100, -200, 8000]
    assert chip.ended and chip.samples == 5


def test_list_source_rejects_bad_samples():
    with pytest.raises(ValueError, match="6"):
        sim_lsm6ds.ListSource([(1, 2, 3)])
    with pytest.raises(ValueError, match="int16"):
        sim_lsm6ds.ListSource([(1, 2, 3, 4, 5, 40000)])


def _tag_parity_even(tag):
    return bin(tag).count("1") % 2 == 0


def test_tagged_fifo_words_tags_and_address_wrap():
    clk, chip = make(0x6C)
    start_fifo(chip)
    clk.advance(int(3.5 * PERIOD_104))  # 3 samples = 6 words
    assert rd(chip, 0x3A, 2) == [6, 0]
    raw = rd(chip, 0x78, 7 * 3)  # one burst: the address wraps from 0x7E back to 0x78
    words = [raw[i:i + 7] for i in range(0, 21, 7)]
    sensors = [w[0] >> 3 for w in words]
    counts = [(w[0] >> 1) & 3 for w in words]
    assert sensors == [1, 2, 1]  # gyro, accel (sample 0), gyro (sample 1)
    assert counts[0] == counts[1] and counts[2] == (counts[0] + 1) % 4
    assert all(_tag_parity_even(w[0]) for w in words)
    assert [s16(words[0][i], words[0][i + 1]) for i in (1, 3, 5)] == list(sample(0)[3:])
    assert [s16(words[1][i], words[1][i + 1]) for i in (1, 3, 5)] == list(sample(0)[:3])
    assert chip.fifo_level == 3


def test_tagged_accel_first_order():
    clk, chip = make(0x6C)
    chip.accel_first = True
    start_fifo(chip)
    clk.advance(int(1.5 * PERIOD_104))
    raw = rd(chip, 0x78, 14)
    assert [raw[0] >> 3, raw[7] >> 3] == [2, 1]


def test_pattern_fifo_words_and_pattern_index():
    clk, chip = make(0x6A)
    start_fifo(chip)
    clk.advance(int(2.5 * PERIOD_104))  # 2 samples = 12 words
    assert rd(chip, 0x3A, 4) == [12, 0, 0, 0]  # level, flags, FIFO_PATTERN = 0
    first = rd(chip, 0x3E, 2)
    assert s16(*first) == sample(0)[3]  # GX first
    assert rd(chip, 0x3C) == [1]  # next word: GY
    raw = rd(chip, 0x3E, 10)  # burst wraps 0x3F -> 0x3E
    ax, ay, az, gx, gy, gz = sample(0)
    assert [s16(raw[i], raw[i + 1]) for i in range(0, 10, 2)] == [gy, gz, ax, ay, az]
    assert rd(chip, 0x3C) == [0] and chip.fifo_level == 6


def test_tagged_continuous_mode_overwrites_oldest_and_flags_overrun():
    clk, chip = make(0x6C)
    start_fifo(chip)
    clk.advance(int(300.5 * PERIOD_104))  # 600 words into a 512-word FIFO
    s1, s2 = rd(chip, 0x3A, 2)
    assert s1 | (s2 & 3) << 8 == 512
    assert s2 & 0x40 and s2 & 0x08 and s2 & 0x20  # OVR_IA, OVR_LATCHED, FULL_IA
    assert not rd(chip, 0x3B)[0] & 0x08  # the latched flag cleared on read
    raw = rd(chip, 0x78, 7)
    assert s16(raw[1], raw[2]) == sample(300 - 256)[3]  # oldest kept: sample 44's gyro
    assert not rd(chip, 0x3B)[0] & 0x40  # one word read: no longer completely filled
    assert chip.fifo_overwritten == 600 - 512


def test_pattern_continuous_mode_overwrites_words_and_reports_pattern():
    clk, chip = make(0x6A)
    start_fifo(chip)
    clk.advance(int(400.5 * PERIOD_104))  # 2400 words into 2048
    s1, s2, s3, s4 = rd(chip, 0x3A, 4)
    assert s2 & 0x40  # OVER_RUN: completely filled
    assert s1 | (s2 & 0x07) << 8 == 2048 & 0x7FF  # the 11-bit DIFF_FIFO cannot show 2048
    assert s3 | (s4 & 3) << 8 == (2400 - 2048) % 6  # the oldest word is mid-sample


def test_fifo_mode_stops_when_full_and_bypass_empties():
    clk, chip = make(0x6C)
    start_fifo(chip)
    wr(chip, 0x0A, 0x01)  # FIFO mode
    clk.advance(int(300.5 * PERIOD_104))
    assert chip.fifo_level == 512
    raw = rd(chip, 0x78, 7)
    assert s16(raw[1], raw[2]) == sample(0)[3]  # nothing overwritten
    wr(chip, 0x0A, 0x00)  # bypass
    assert chip.fifo_level == 0
    clk.advance(int(10 * PERIOD_104))
    assert rd(chip, 0x3A, 2)[0] == 0


@pytest.mark.parametrize("who", TAGGED + PATTERN)
def test_fifo_start_hook_names_the_source_sample_the_fifo_begins_with(who):
    clk, chip = make(who)
    starts = []
    chip.on_fifo_start = starts.append
    start_fifo(chip)
    fifo_ctrl = 0x0A  # FIFO_CTRL4 (tagged) / FIFO_CTRL5 (pattern): mode in bits 2:0
    on = rd(chip, fifo_ctrl)[0]
    wr(chip, fifo_ctrl, on & ~7)  # bypass while samples 0..6 are produced
    clk.advance(int(7.5 * PERIOD_104))
    assert chip.fifo_level == 0 and starts == []
    wr(chip, fifo_ctrl, on)
    clk.advance(int(2 * PERIOD_104))  # samples 7 and 8 go into the FIFO
    gyro = rd(chip, 0x79, 6) if chip.tagged else rd(chip, 0x3E, 6)  # the first word: a gyro X, Y, Z
    assert [s16(gyro[i], gyro[i + 1]) for i in (0, 2, 4)] == list(sample(7)[3:])
    assert starts == [7]  # (the chip catches up with the clock at each bus transaction)
    wr(chip, fifo_ctrl, on & ~7)  # bypass again; the next start is reported anew
    wr(chip, fifo_ctrl, on)
    clk.advance(int(1 * PERIOD_104))
    assert chip.fifo_level and starts == [7, 9]
    wr(chip, 0x12, 0x01)  # CTRL3_C SW_RESET: registers and FIFO cleared; the source runs on
    start_fifo(chip)
    clk.advance(int(1.5 * PERIOD_104))
    assert chip.fifo_level and starts == [7, 9, 10]


@pytest.mark.parametrize("who", TAGGED + PATTERN)
def test_watermark_flag(who):
    clk, chip = make(who)
    start_fifo(chip)
    if chip.tagged:
        wr(chip, 0x07, 20)  # WTM = 20 words
    else:
        wr(chip, 0x06, 60)  # FTH = 60 words
    clk.advance(int(9.5 * PERIOD_104))
    assert not rd(chip, 0x3B)[0] & 0x80
    clk.advance(int(PERIOD_104))
    assert rd(chip, 0x3B)[0] & 0x80


def test_busio_adapter_slices_like_circuitpython():
    _, chip = make(0x6B)
    bus = chip.busio()
    assert bus.try_lock() and not bus.try_lock()
    buf = bytearray(b"\x00\x0f\x00\x00")
    bus.writeto_then_readfrom(ADDR, buf, buf, out_start=1, out_end=2, in_start=2, in_end=3)
    assert buf[2] == 0x6B
    bus.writeto(ADDR, bytearray(b"\x99\x10\x44"), start=1)  # CTRL1_XL = 0x44
    assert rd(chip, 0x10) == [0x44]
    out = bytearray(3)
    bus.readfrom_into(ADDR, out, start=1)
    assert out[1] == 0x00  # the register after CTRL1_XL: CTRL2_G
    bus.unlock()
    with pytest.raises(OSError):
        bus.writeto(0x6B, b"")


def test_spi_view_reads_and_writes():
    _, chip = make(0x6C)
    spi, cs = chip.spi()
    buf = bytearray(2)
    cs(0)
    spi.write(bytes([0x10]))
    spi.write(bytes([0x48, 0x44]))  # CTRL1_XL, CTRL2_G in one write burst
    cs(1)
    cs(0)
    spi.write(bytes([0x80 | 0x0F]))
    spi.readinto(buf)
    cs(1)
    assert list(buf) == [0x6C, 0x48]
    assert rd(chip, 0x11) == [0x44]
