"""TI DRV2605 / DRV2605L haptic driver (datasheet SLOS825, SLOS854): a motor for haptics.Player.

Driven in real-time playback (RTP) mode: the motor runs at the amplitude in RTP_INPUT until
it is set to 0. Its own module: only a board file with motor kind drv2605 imports it.
"""

from micropython import const

from .haptics import duty

_DRV_ADDR = const(0x5A)
_DRV_STATUS = const(0x00)          # DEVICE_ID[7:5]: 3 DRV2605, 4 DRV2604, 6 DRV2604L, 7 DRV2605L
_DRV_MODE = const(0x01)            # DEV_RESET[7], STANDBY[6], MODE[2:0]
_DRV_RTP_INPUT = const(0x02)
_DRV_FEEDBACK = const(0x1A)        # N_ERM_LRA[7]: 0 ERM, 1 LRA
_DRV_CONTROL3 = const(0x1D)        # ERM_OPEN_LOOP[5], DATA_FORMAT_RTP[3]: 0 signed, 1 unsigned
_DRV_MODE_RTP = const(0x05)
_DRV_STANDBY = const(0x40)
_DRV_N_ERM_LRA = const(0x80)
_DRV_ERM_OPEN_LOOP = const(0x20)
_DRV_DATA_FORMAT_RTP = const(0x08)
_DRV_IDS = (3, 4, 6, 7)
# Signed RTP data: 0x00 no drive, 0x7F full scale (a negative value would brake or reverse).
_DRV_FULL = const(0x7F)


class DRV2605Motor:
    """ERM or LRA motor behind a DRV2605(L) on an injected I2C bus (machine.I2C interface).

    ERM runs open loop (needs no calibration). LRA runs closed loop with the chip's default
    rated/clamp voltages; auto-calibration is not run here.
    """

    def __init__(self, i2c, address=_DRV_ADDR, actuator="erm", strength=100):
        if actuator not in ("erm", "lra"):
            raise ValueError("DRV2605 actuator must be 'erm' or 'lra', got %r" % (actuator,))
        self._i2c = i2c
        self._addr = address
        self._buf = bytearray(1)
        self._amp = duty(strength, _DRV_FULL)
        try:
            status = self._read(_DRV_STATUS)
        except OSError:
            raise OSError("no DRV2605 haptic driver at I2C address 0x%02x" % address)
        if status >> 5 not in _DRV_IDS:
            raise OSError("chip at I2C address 0x%02x is not a DRV2605 (device id %d)" % (address, status >> 5))
        self._write(_DRV_RTP_INPUT, 0)  # a reset MCU may have left it driving
        fb = self._read(_DRV_FEEDBACK) & ~_DRV_N_ERM_LRA
        c3 = self._read(_DRV_CONTROL3) & ~(_DRV_DATA_FORMAT_RTP | _DRV_ERM_OPEN_LOOP)
        if actuator == "lra":
            fb |= _DRV_N_ERM_LRA
        else:
            c3 |= _DRV_ERM_OPEN_LOOP
        self._write(_DRV_FEEDBACK, fb)
        self._write(_DRV_CONTROL3, c3)
        self._write(_DRV_MODE, _DRV_MODE_RTP)  # STANDBY cleared: ready, real-time playback

    def _read(self, reg):
        self._i2c.readfrom_mem_into(self._addr, reg, self._buf)
        return self._buf[0]

    def _write(self, reg, value):
        self._buf[0] = value
        self._i2c.writeto_mem(self._addr, reg, self._buf)

    def on(self):
        self._write(_DRV_RTP_INPUT, self._amp)

    def off(self):
        self._write(_DRV_RTP_INPUT, 0)

    def sleep(self):
        """Motor off and the chip in software standby (low power)."""
        self.off()
        self._write(_DRV_MODE, _DRV_STANDBY | _DRV_MODE_RTP)
