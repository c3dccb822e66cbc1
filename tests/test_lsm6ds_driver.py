"""The LSM6DS driver on CPython against the simulated chip: registers, errors, FIFO decoding."""

from array import array

import pytest

from lsm6ds_helpers import CHIPS, PATTERN, RATES, TAGGED, due, failing_bus, sample, samples, sim_module

sim_lsm6ds = sim_module()
ODR_CODE = {26: 0x2, 52: 0x3, 104: 0x4}  # datasheet ODR_XL/ODR_G/BDR/ODR_FIFO codes


@pytest.fixture(scope="module")
def lsm6ds():
    from retrowalk.firmware import lsm6ds
    return lsm6ds


def make(lsm6ds, who=0x6C, rate=104, n=4000, address=0x6A, **kw):
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource(samples(n)), clk, whoami=who, address=address)
    imu = lsm6ds.LSM6DS(chip, rate_hz=rate, clock_ms=lambda: clk.us // 1000, **kw)
    return clk, chip, imu


def drain(imu, max_samples=64):
    """Read the FIFO until it is empty; the decoded samples as tuples."""
    buf = array("h", bytes(2 * 6 * max_samples))
    out = []
    while True:
        n = imu.read_fifo(buf, max_samples)
        out += [tuple(buf[6 * i:6 * i + 6]) for i in range(n)]
        if n < max_samples:
            return out


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("who", CHIPS)
def test_configuration_registers(lsm6ds, who, rate):
    _, chip, imu = make(lsm6ds, who, rate)
    r = chip.regs
    odr = ODR_CODE[rate]
    assert r[0x10] == odr << 4 | 0b10 << 2  # CTRL1_XL: ODR, FS_XL = 10 (+-4 g)
    assert r[0x11] == odr << 4 | 0b01 << 2  # CTRL2_G: ODR, FS_G = 01 (500 dps)
    assert r[0x12] == 0x44  # CTRL3_C: BDU | IF_INC
    if who in TAGGED:
        assert r[0x18] == 0xE2  # CTRL9_XL: reset value 0xE0 | I3C_disable / DEVICE_CONF
        assert r[0x09] == odr << 4 | odr  # FIFO_CTRL3: BDR_GY, BDR_XL
        assert r[0x0A] == 0x06  # FIFO_CTRL4: continuous mode
    else:
        assert r[0x18] == (0xE0 if who == 0x6A else 0x38)  # untouched
        assert r[0x08] == 0x09  # FIFO_CTRL3: gyro and accel batched, no decimation
        assert r[0x0A] == odr << 3 | 0x06  # FIFO_CTRL5: ODR_FIFO, continuous mode
    assert imu.rate_hz == rate
    assert imu.accel_ug_per_lsb == 122 and imu.gyro_udps_per_lsb == 17500


@pytest.mark.parametrize("who,name,depth", [(0x6C, "LSM6DSO(X)", 256), (0x6B, "ISM330DHCX", 256),
                                            (0x6A, "LSM6DS3TR-C", 341), (0x69, "LSM6DS33", 682)])
def test_chip_identity(lsm6ds, who, name, depth):
    _, _, imu = make(lsm6ds, who)
    assert (imu.chip, imu.whoami, imu.address, imu.fifo_samples) == (name, who, 0x6A, depth)


@pytest.mark.parametrize("fs_g,code,ug", [(2, 0b00, 61), (4, 0b10, 122), (8, 0b11, 244), (16, 0b01, 488)])
def test_accel_full_scales(lsm6ds, fs_g, code, ug):
    _, chip, imu = make(lsm6ds, accel_fs_g=fs_g)
    assert chip.regs[0x10] & 0x0C == code << 2 and imu.accel_ug_per_lsb == ug


@pytest.mark.parametrize("fs,code,udps", [(250, 0, 8750), (500, 1, 17500), (1000, 2, 35000), (2000, 3, 70000)])
def test_gyro_full_scales(lsm6ds, fs, code, udps):
    _, chip, imu = make(lsm6ds, gyro_fs_dps=fs)
    assert chip.regs[0x11] & 0x0E == code << 2 and imu.gyro_udps_per_lsb == udps


@pytest.mark.parametrize("kw,match", [
    ({"rate_hz": 100}, "rate_hz"), ({"accel_fs_g": 3}, "accel_fs_g"),
    ({"gyro_fs_dps": 300}, "gyro_fs_dps"), ({"batch": 0}, "batch"), ({"batch": 257}, "batch"),
    ({"watermark": 256}, "watermark"), ({"watermark": -1}, "watermark")])
def test_bad_settings_are_value_errors(lsm6ds, kw, match):
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource([]), clk)
    with pytest.raises(ValueError, match=match):
        lsm6ds.LSM6DS(chip, **kw)


@pytest.mark.parametrize("who,watermark,ctrl1,ctrl2", [
    (0x6C, 100, 200, 0), (0x6C, 200, 400 & 0xFF, 1),  # WTM in words: 2 per sample, 9 bits
    (0x6A, 100, 600 & 0xFF, 600 >> 8), (0x69, 600, 3600 & 0xFF, 3600 >> 8)])  # FTH: 6 per sample
def test_watermark_registers(lsm6ds, who, watermark, ctrl1, ctrl2):
    _, chip, _ = make(lsm6ds, who, watermark=watermark)
    base = 0x07 if who in TAGGED else 0x06
    assert (chip.regs[base], chip.regs[base + 1]) == (ctrl1, ctrl2)


def test_missing_chip_names_the_addresses_tried(lsm6ds):
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource([]), clk, address=0x55)
    with pytest.raises(OSError, match="0x6a or 0x6b"):
        lsm6ds.LSM6DS(chip)
    with pytest.raises(OSError, match="0x6b") as e:
        lsm6ds.LSM6DS(chip, address=0x6B)
    assert "0x6a" not in str(e.value)


def test_default_probe_finds_the_second_address(lsm6ds):
    _, chip, imu = make(lsm6ds, 0x6A, address=0x6B)
    assert imu.address == 0x6B and imu.chip == "LSM6DS3TR-C"


def test_wrong_whoami_names_value_and_expected(lsm6ds):
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource([]), clk)
    chip.regs[0x0F] = 0x47  # some other chip answers at 0x6A
    with pytest.raises(OSError) as e:
        lsm6ds.LSM6DS(chip)
    text = str(e.value)
    assert "0x47" in text and "0x6a" in text
    for expected in ("0x6c", "0x6b", "0x69"):
        assert expected in text


class FlakyBus:
    """Wraps a bus: the first `failures` WHO_AM_I reads fail with EIO."""

    def __init__(self, bus, failures):
        self.bus = bus
        self.failures = failures
        self.calls = 0

    def readfrom_mem_into(self, addr, reg, buf):
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise OSError(5)
        self.bus.readfrom_mem_into(addr, reg, buf)

    def writeto_mem(self, addr, reg, buf):
        self.bus.writeto_mem(addr, reg, buf)


def test_probe_retries_a_bounded_number_of_times(lsm6ds):
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource([]), clk)
    imu = lsm6ds.LSM6DS(FlakyBus(chip, 2))  # two glitches, then the chip answers
    assert imu.address == 0x6A
    dead = FlakyBus(chip, 10 ** 6)
    with pytest.raises(OSError, match="no LSM6DS"):
        lsm6ds.LSM6DS(dead)
    assert dead.calls <= 2 * 5  # two addresses, a few tries each


@pytest.mark.parametrize("batch,max_samples", [(1, 64), (3, 5), (32, 64), (64, 200)])
@pytest.mark.parametrize("who", CHIPS)
def test_fifo_samples_decode_exactly_in_order(lsm6ds, who, batch, max_samples):
    clk, chip, imu = make(lsm6ds, who, batch=batch)
    got = []
    for step_ms in (5, 37, 500, 1000, 3, 230):
        clk.advance(step_ms * 1000)
        got += drain(imu, max_samples)
    assert len(got) == due(clk.us, 104)
    assert got == samples(len(got))
    assert imu.overruns == 0 and imu.lost_samples == 0 and imu.dropped_words == 0


@pytest.mark.parametrize("who", CHIPS)
@pytest.mark.parametrize("rate", RATES)
def test_all_rates_deliver_rate_samples_per_second(lsm6ds, who, rate):
    clk, _, imu = make(lsm6ds, who, rate)
    clk.advance(2000000)
    got = drain(imu)
    assert len(got) == 2 * rate and got == samples(2 * rate)


def test_tagged_pairing_does_not_depend_on_word_order(lsm6ds):
    clk, chip, imu = make(lsm6ds, 0x6C)
    chip.accel_first = True
    clk.advance(1000000)
    assert drain(imu, 7) == samples(104)


@pytest.mark.parametrize("accel_first", [False, True])
def test_tagged_fifo_starting_mid_pair_and_reads_of_a_few_samples(lsm6ds, accel_first):
    clk, chip, imu = make(lsm6ds, 0x6C)
    chip.accel_first = accel_first
    clk.advance(int(20.5 * 1000000 / 104))  # samples 0..19
    chip.readfrom_mem_into(0x6A, 0x78, bytearray(7))  # someone takes one word: mid-pair start
    buf = array("h", bytes(2 * 6 * 5))
    got = []
    for _ in range(3):  # 5 samples asked while more wait: exactly 5 come
        assert imu.read_fifo(buf, 5) == 5
        got += [tuple(buf[6 * i:6 * i + 6]) for i in range(5)]
    got += drain(imu)
    if accel_first:
        # A0 was taken; G0 is a gyro reading that A1 does not keep (G1 follows it, its slot's)
        assert got == samples(20)[1:] and imu.dropped_words == 0
    else:
        # G0 was taken: A0 has no gyro reading (none came before it) and is dropped
        assert got == samples(20)[1:] and imu.dropped_words == 1


@pytest.mark.parametrize("who", PATTERN)
def test_pattern_fifo_starting_mid_sample_realigns(lsm6ds, who):
    clk, chip, imu = make(lsm6ds, who)
    clk.advance(int(10.5 * 1000000 / 104))
    chip.readfrom_mem_into(0x6A, 0x3E, bytearray(2))  # one word gone: pattern index now 1
    assert drain(imu) == samples(10)[1:]
    assert imu.dropped_words == 5


@pytest.mark.parametrize("who", CHIPS)
def test_overrun_detected_and_lost_samples_estimated(lsm6ds, who):
    clk, chip, imu = make(lsm6ds, who, n=5000)
    clk.advance(500000)
    buf = array("h", bytes(2 * 6 * 10))
    assert imu.read_fifo(buf, 10) == 10  # 52 were there: 42 left behind, lost in the overrun
    first = [tuple(buf[6 * i:6 * i + 6]) for i in range(10)]
    late_s = 3 * imu.fifo_samples / 104 + 1  # the reader is late: the FIFO wraps three times
    clk.advance(int(late_s * 1000000))
    second = drain(imu)
    clk.advance(300000)
    third = drain(imu)
    produced = due(clk.us, 104)
    assert first == samples(len(first))
    # After the overrun: the newest samples, consecutive, pairs intact, up to the latest one.
    start = second[0][0]
    assert second + third == [sample(i) for i in range(start, produced)]
    true_lost = start - len(first)
    assert true_lost > 2 * imu.fifo_samples
    assert imu.overruns == 1
    assert abs(imu.lost_samples - true_lost) <= 2
    assert len(second) >= imu.fifo_samples - 1


@pytest.mark.parametrize("who", CHIPS)
def test_a_restart_counts_the_samples_it_cost_from_the_last_read_that_found_any(lsm6ds, who):
    # The app restarts the chip after a bus error (app_transitions.imu_error) and logs what that
    # cost. A read that fails once the FIFO's level is read (in its data transfer), and reads
    # of a chip that stopped sampling (a power dip reset it) leave the reference alone: the
    # restart counts from the last read that returned samples to its FIFO's start.
    from retrowalk.firmware import lsm6ds_setup
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource(samples(4000)), clk, whoami=who)
    bus = failing_bus(chip)
    imu = lsm6ds.LSM6DS(bus, clock_ms=lambda: clk.us // 1000)
    clk.advance(1000000)
    assert drain(imu) == samples(104)  # 1.0 s
    clk.advance(200000)
    bus.failing = True
    with pytest.raises(OSError):
        imu.read_fifo(array("h", bytes(2 * 6 * 64)), 64)  # 1.2 s: 20 samples waited
    bus.failing = False
    chip.reset()  # it samples nothing from here, its FIFO empty
    for _ in range(5):
        clk.advance(200000)
        assert drain(imu) == []
    assert lsm6ds_setup.restart(imu) == 1200 * 104 // 1000  # 2.2 s: 1.2 s of samples
    clk.advance(500000)
    assert drain(imu) == [sample(i) for i in range(124, 124 + 52)]  # the source goes on
    # a restart right after a read that found samples costs the time between them
    clk.advance(100000)
    assert len(drain(imu)) == 10
    clk.advance(50000)
    assert lsm6ds_setup.restart(imu) == 50 * 104 // 1000
    assert imu.overruns == 0 and imu.lost_samples == 0  # the driver's counts are its FIFO's


@pytest.mark.parametrize("who", TAGGED)
def test_a_read_that_raised_while_its_sample_waited_for_its_gyro_word(lsm6ds, who):
    # Accel words first: the failing read decoded A0 (no gyro reading yet: it waits for G0)
    # and failed fetching G0. That read's sample is lost with it; the FIFO still starts at G0,
    # so the next read's first sample is sample 1, whole, and nothing is dropped. (The "waits
    # for its gyro" mark used to outlive the raise: the next read counted -1 samples, wrote
    # sample 1 at buf[-6] (on the board: ~786 KB past buf) and returned sample 2 as its first.)
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource(samples(4000)), clk, whoami=who)
    chip.accel_first = True
    bus = failing_bus(chip)
    imu = lsm6ds.LSM6DS(bus, clock_ms=lambda: clk.us // 1000)
    clk.advance(100000)
    buf = array("h", bytes(2 * 6))
    bus.at = 2  # A0 is read, the transfer after it fails
    with pytest.raises(OSError):
        imu.read_fifo(buf, 1)
    assert imu.read_fifo(buf, 1) == 1 and tuple(buf) == sample(1)
    assert drain(imu) == [sample(i) for i in range(2, due(clk.us, 104))]
    assert imu.dropped_words == 0


@pytest.mark.parametrize("who", CHIPS)
def test_a_restart_counts_what_the_last_read_that_found_samples_left_unread(lsm6ds, who):
    # The reference for a restart's count is one read's: its time and the samples it left in
    # the FIFO. Reads of a chip that stopped sampling (a power dip reset it, its FIFO emptied)
    # change neither: the 40 samples the 64-sample read left are lost with the rest.
    from retrowalk.firmware import lsm6ds_setup
    clk, chip, imu = make(lsm6ds, who)
    clk.advance(1000000)  # 104 samples waiting
    assert imu.read_fifo(array("h", bytes(2 * 6 * 64)), 64) == 64
    left = imu._left  # (a tagged FIFO's words left hold gyro ones too: the accel ones estimated)
    assert abs(left - 40) <= 1
    chip.reset()
    for _ in range(3):
        clk.advance(200000)
        assert drain(imu) == []
    assert lsm6ds_setup.restart(imu) == left + 600 * 104 // 1000  # 0.6 s since that read


def test_pattern_full_fifo_reads_as_zero_words_but_is_taken_as_full(lsm6ds):
    # 2048 words need 12 bits; DIFF_FIFO has 11: the driver must not read a full FIFO as empty.
    clk, chip, imu = make(lsm6ds, 0x6A)
    clk.advance(int(346.5 * 1000000 / 104))  # 346 samples = 2076 words: 28 overwritten
    s1, s2 = chip.readfrom_mem(0x6A, 0x3A, 2)
    assert (s1, s2 & 0x07, s2 & 0x40) == (0, 0, 0x40)
    # The oldest word is word 28 % 6 = 4 of sample 4: the driver skips 2 words, then reads
    # the 2046 // 6 = 341 whole samples 5..345.
    assert drain(imu) == samples(346)[5:]
    assert imu.overruns == 1 and imu.dropped_words == 2


def test_read_one_gives_the_latest_sample(lsm6ds):
    clk, _, imu = make(lsm6ds, 0x6C)
    clk.advance(int(7.5 * 1000000 / 104))
    buf = array("h", bytes(12))
    imu.read_one(buf)
    assert tuple(buf) == sample(6)


def test_flush_empties_the_fifo_and_power_down_stops_sampling(lsm6ds):
    clk, chip, imu = make(lsm6ds, 0x6A)
    clk.advance(1000000)
    imu.flush()
    clk.advance(int(2.5 * 1000000 / 104))
    assert drain(imu) == samples(106)[104:]
    imu.power_down()
    clk.advance(1000000)
    assert drain(imu) == [] and chip.regs[0x10] == 0
    imu.configure()
    assert chip.regs[0x10] == 0x48


@pytest.mark.parametrize("who", (0x6C, 0x6A))
def test_spi_bus_by_duck_typing(lsm6ds, who):
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource(samples(200)), clk, whoami=who)
    spi, cs = chip.spi()
    with pytest.raises(ValueError, match="chip-select"):
        lsm6ds.LSM6DS(spi)
    imu = lsm6ds.LSM6DS(spi, cs=cs, clock_ms=lambda: clk.us // 1000)
    assert imu.whoami == who and chip.regs[0x12] == 0x44
    clk.advance(1000000)
    assert drain(imu) == samples(104)


def held(seq, every, first=0):
    """seq as a FIFO with the gyro batched every `every` samples gives it, the first one
    batched at seq[first]: each sample takes the gyro of the newest batched one."""
    return [s[:3] + seq[first + (i - first) // every * every][3:] for i, s in enumerate(seq) if i >= first]


@pytest.mark.parametrize("late_samples", range(420, 424))  # every TAG_CNT phase
def test_tagged_carry_then_overrun_keeps_samples_whole(lsm6ds, late_samples):
    # An accel word that found the buffer full is kept for the next call; an overrun then
    # overwrites the oldest words: what comes after must be whole, consecutive samples,
    # each with the gyro reading batched at or before it after the cut (not an older one).
    clk, chip, imu = make(lsm6ds, 0x6C)
    imu.configure(gyro_hz=26)  # G A A A A G A ...: the word after a full buffer is often an accel
    clk.advance(int(20.5 * 1000000 / 104))
    buf = array("h", bytes(2 * 6 * 6))
    n = imu.read_fifo(buf, 6)  # G0 A0 .. A3 G4 A4 A5, then A6: kept
    assert n == 6 and imu._carried
    got = [tuple(buf[6 * i:6 * i + 6]) for i in range(n)]
    clk.advance(int(late_samples * 1000000 / 104))  # 409 samples fill the FIFO: overrun
    got += drain(imu)
    assert imu.overruns == 1
    assert got[:7] == held(samples(7), 4)  # the kept A6 first, then what the overrun left
    first = got[7][0]
    assert first % 4 == 0  # the first sample after the cut with its slot's gyro word
    assert got[7:] == held(samples(got[-1][0] + 1), 4)[first:]
    assert imu.dropped_words <= 4  # accel words before that first gyro word (its own may be one)


def whole(got, every):
    """True if each decoded sample holds the gyro reading batched at or before it (the gyro
    batched every `every` samples from sample 0): none older."""
    return all(t[:3] == sample(t[0])[:3] and t[3:] == sample(t[0] - t[0] % every)[3:] for t in got)


@pytest.mark.parametrize("accel_first", [False, True])
@pytest.mark.parametrize("late_samples", range(620, 624))  # every TAG_CNT phase
def test_a_sample_carried_into_two_overruns_keeps_no_stale_gyro(lsm6ds, accel_first, late_samples):
    # Reads of one sample leave the next accel word carried; when two reads in a row see an
    # overrun, the word carried between them (the first after the first cut) lost its slot's
    # gyro word in the second cut: it is dropped, not given the reading held from before
    # the first (it got sample 0's, seconds older).
    clk, chip, imu = make(lsm6ds, 0x6C)
    chip.accel_first = accel_first
    imu.configure(gyro_hz=26)
    buf = array("h", bytes(2 * 6 * 8))
    got = []
    for ms, max_samples in ((300, 1), (late_samples * 1000 // 104, 1), (6000, 8)):
        clk.advance(ms * 1000)
        n = imu.read_fifo(buf, max_samples)
        got.append([tuple(buf[6 * i:6 * i + 6]) for i in range(n)])
    assert imu.overruns == 2
    assert len(got[2]) >= 7 and whole(got[0] + got[1] + got[2], 4)
    # the sample carried into the third read may be kept (with a reading it had before the
    # cut); the rest are consecutive, from after the second cut
    rest = got[2][1:]
    assert rest[-1][0] - rest[0][0] == len(rest) - 1 and rest[0][0] > 6000 * 104 // 1000


@pytest.mark.parametrize("accel_first", [False, True])
@pytest.mark.parametrize("late_ms", range(6000, 6040, 10))  # every TAG_CNT phase
def test_reads_of_one_sample_after_an_overrun_drain_the_fifo(lsm6ds, accel_first, late_ms):
    # A read returns max_samples while words wait: reads of one sample, stopped by the first
    # one that returns 0, take every sample the overrun left (one used to return 0 at once:
    # its sample dropped for want of its gyro word, the next one not looked at).
    clk, chip, imu = make(lsm6ds, 0x6C)
    chip.accel_first = accel_first
    imu.configure(gyro_hz=26)
    clk.advance(late_ms * 1000)
    got = drain(imu, 1)
    assert imu.overruns == 1 and chip.fifo_level == 0
    first = got[0][0]
    assert got == [held(samples(due(clk.us, 104)), 4)[i] for i in range(first, due(clk.us, 104))]
    assert len(got) >= imu.fifo_samples - 4


@pytest.mark.parametrize("accel_first", [False, True])
@pytest.mark.parametrize("rate,gyro_hz", [(104, 26), (104, 52), (52, 26), (26, 26), (104, 104)])
@pytest.mark.parametrize("who", TAGGED)
def test_gyro_batched_below_the_sample_rate_is_held(lsm6ds, who, rate, gyro_hz, accel_first):
    # BDR_GY below BDR_XL: the FIFO gets a gyro word every rate/gyro_hz samples, and each
    # sample carries the newest one; the bus moves 7 bytes per sample plus 7 per gyro word.
    clk, chip, imu = make(lsm6ds, who, rate)
    chip.accel_first = accel_first
    imu.configure(gyro_hz=gyro_hz)
    assert chip.regs[0x09] == ODR_CODE[gyro_hz] << 4 | ODR_CODE[rate]  # FIFO_CTRL3: BDR_GY, BDR_XL
    assert imu.gyro_hz == gyro_hz
    every = rate // gyro_hz
    assert imu.fifo_samples == 512 * every // (every + 1)
    got = []
    for step_ms, max_samples in ((5, 64), (37, 3), (500, 5), (1000, 64), (3, 1), (230, 7), (2000, 32)):
        clk.advance(step_ms * 1000)
        got += drain(imu, max_samples)
    n = due(clk.us, rate)
    assert got == held(samples(n), every)
    assert chip.fifo_read == n + (n + every - 1) // every  # accel words + gyro words, all read
    assert imu.overruns == 0 and imu.dropped_words == 0


def test_gyro_rate_is_checked_and_pattern_chips_batch_it_with_every_sample(lsm6ds):
    _, _, imu = make(lsm6ds, 0x6C, 52)
    for bad in (104, 30, 0):
        with pytest.raises(ValueError, match="gyro_hz"):
            imu.configure(gyro_hz=bad)
    clk, chip, imu = make(lsm6ds, 0x6A)
    imu.configure(gyro_hz=26)
    assert imu.gyro_hz == 104 and chip.regs[0x08] == 0x09
    clk.advance(1000000)
    assert drain(imu) == samples(104)


@pytest.mark.parametrize("taken", range(0, 6))
@pytest.mark.parametrize("accel_first", [False, True])
def test_held_gyro_fifo_starting_anywhere(lsm6ds, taken, accel_first):
    # Words taken from the FIFO's start (as an overrun overwrites them): samples before the
    # first gyro word still there have no reading and are dropped; the rest hold theirs.
    clk, chip, imu = make(lsm6ds, 0x6C)
    chip.accel_first = accel_first
    imu.configure(gyro_hz=26)
    clk.advance(int(12.5 * 1000000 / 104))  # samples 0..11: G0 A0 A1 A2 A3 G4 A4 ... (or A0 G0 ...)
    for _ in range(taken):
        chip.readfrom_mem_into(0x6A, 0x78, bytearray(7))
    got = drain(imu)
    order = []  # what was left: (sensor, sample) in FIFO order
    for i in range(12):
        words = [("a", i)] + ([("g", i)] if i % 4 == 0 else [])
        order += words[::-1] if not accel_first else words
    left = order[taken:]
    first_g = min(i for k, i in left if k == "g")
    accels = [i for k, i in left if k == "a"]
    # An accel word whose own gyro word is still there after it keeps it (accel first)
    first = first_g if ("a", first_g) in left else first_g + 1
    assert got == held(samples(12), 4, first_g)[first - first_g:]
    assert imu.dropped_words == len([i for i in accels if i < first])


def test_wrong_whoami_over_spi(lsm6ds):
    clk = sim_lsm6ds.ManualClock()
    chip = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource([]), clk)
    chip.regs[0x0F] = 0x47
    spi, cs = chip.spi()
    with pytest.raises(OSError, match="SPI: WHO_AM_I is 0x47"):
        lsm6ds.LSM6DS(spi, cs=cs)
