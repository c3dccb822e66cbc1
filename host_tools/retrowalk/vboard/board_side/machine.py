"""`machine` on the virtual board: the unix port's module plus simulated board hardware.

Pin (button level from a script; output levels traced), PWM (traced), I2C/SoftI2C (the
simulated IMU and register-file devices where the board file wires them; anything else
NACKs like hardware), RTC (on the simulated clock; the host keeps it across resets), WDT (enforced by
the host bridge), unique_id, reset, soft_reset, reset_cause, freq, lightsleep, deepsleep.
setup() is called once per boot, before boot.py, with the board description from the host.
Pin.value(), PWM.duty_u16() and the I2C methods allocate nothing once the objects exist.
"""

import sys
import struct
from array import array

_path = sys.path[:]
sys.path.clear()
from machine import *  # noqa: F401,F403  (the built-in module: PinBase, Signal, idle, mem*)
from machine import PinBase as _PinBase
sys.path.extend(_path)
del _path

import micropython
import vbclock
import vbfiles
import vblink

PWRON_RESET = vbfiles.PWRON_RESET
HARD_RESET = vbfiles.HARD_RESET
WDT_RESET = vbfiles.WDT_RESET
DEEPSLEEP_RESET = vbfiles.DEEPSLEEP_RESET
SOFT_RESET = vbfiles.SOFT_RESET

_MAX_PINS = 64
_cfg = {}
_cause = PWRON_RESET
_boot = 0
_cpu_hz = 125000000
_trace = None
_rec = bytearray(vbfiles.TRACE_RECORD_SIZE)
_index = {}  # pin id -> index
_names = []  # index -> pin id
_mode = bytearray(_MAX_PINS)  # Pin.IN/OUT/OPEN_DRAIN per index; 255 = PWM
_pull = bytearray(_MAX_PINS)
_level = bytearray(_MAX_PINS)
_traced = bytearray(_MAX_PINS)  # level last traced + 1 (0: none yet)
_duty = array("i", [-1] * _MAX_PINS)
_aliases = {}
_pin_count = 0
_button = -2  # button pin id (int or str); -2 = none
_btn_active_low = True
_btn_external_pull = False
_btn_t = array("q")  # sim us of each level change
_btn_down = bytearray()  # pressed (1) or released (0) from that time on
_btn_i = 0  # edges already passed (value() reads)
_irq_i = 0  # edges already dispatched to the IRQ handler
_irq_handler = None
_irq_trigger = 0
_irq_hard = False
_irq_pin = None
_i2c = {}
_devices = {}  # I2C address -> simulated device on the wired bus
_nack = 19


def setup(cfg, trace_file, imu):
    """Take this boot's hardware description, trace file and simulated IMU (or None)."""
    global _cfg, _cause, _boot, _cpu_hz, _trace, _aliases, _pin_count, _button
    global _btn_active_low, _btn_external_pull, _i2c, _nack
    _cfg = cfg
    hw = cfg["hardware"]
    _cause = cfg["cause"]
    _boot = cfg["boot"] & 0xFFFF
    _cpu_hz = hw.get("cpu_hz", _cpu_hz)
    _trace = trace_file
    _aliases = hw.get("pin_names", {})
    _pin_count = hw.get("pin_count", 0)
    _i2c = hw.get("i2c") or {}
    _nack = _i2c.get("nack_errno", 19)
    if imu is not None:
        _devices[imu.address] = imu
        imu.on_fifo_status = _fifo_read
        imu.on_fifo_start = _fifo_start
    for addr in _i2c.get("regfiles", ()):
        _devices[addr] = _RegFile(addr)
    b = hw.get("button")
    if b:
        _button = _pin_id(b["pin"])
        _btn_active_low = b.get("active_low", True)
        _btn_external_pull = b.get("external_pull", False)
        start = cfg["boot_us"]
        for t_ms, down in cfg.get("button_edges", ()):
            _btn_t.append(start + int(t_ms * 1000))
            _btn_down.append(1 if down else 0)
    for name in hw.get("missing", ()):  # classes this port does not have (e.g. nrf: WDT, PWM)
        globals().pop(name, None)
    _log(vbfiles.T_BOOT, 0, _cause)
    if cfg.get("wdt_ms"):  # a soft reset does not stop the watchdog; it restarts its count
        vbclock.wdt_start(cfg["wdt_ms"], _wdt_bite)


def _log(kind, index, value):
    # One trace record; no allocation (the format string is a constant).
    if _trace is not None:
        struct.pack_into(vbfiles.TRACE_RECORD, _rec, 0, vbclock.now_us(), kind, index, _boot, value)
        _trace.write(_rec)
        vbclock.publish()  # the host's idea of the board's time never lags what the trace shows


def _fifo_read(samples):
    # The simulated IMU's FIFO is being read (FIFO_STATUS1): samples read out before this read.
    _log(vbfiles.T_FIFO, 0, samples)


def _fifo_start(n):
    # The simulated IMU wrote the first sample into its FIFO since bypass: source sample n.
    _log(vbfiles.T_FIFO_START, 0, n)


def _pin_id(p):
    # The board's own name for a pin: an int GPIO number, or a string the board file names.
    if isinstance(p, Pin):
        return p._id
    if isinstance(p, int):
        if p < 0 or (_pin_count and p >= _pin_count):
            raise ValueError("invalid pin")
        return p
    if isinstance(p, str):
        if p in _aliases:
            return _aliases[p]
        for prefix in ("GPIO", "GP"):
            if p.startswith(prefix) and p[len(prefix):].isdigit():
                return _pin_id(int(p[len(prefix):]))
    raise ValueError("invalid pin")


def _pin_index(pid):
    i = _index.get(pid)
    if i is None:
        i = len(_names)
        if i >= _MAX_PINS:
            raise ValueError("too many pins")
        _index[pid] = i
        _names.append(pid)
        _mode[i] = Pin.IN
        if _trace is not None:
            _log(vbfiles.T_PIN, i, 0)
            name = str(pid).encode()[: vbfiles.TRACE_NAME_SIZE]
            _trace.write(name + bytes(vbfiles.TRACE_NAME_SIZE - len(name)))
    return i


def _button_down(now):
    global _btn_i
    i = _btn_i
    n = len(_btn_t)
    while i < n and _btn_t[i] <= now:
        i += 1
    _btn_i = i
    return i > 0 and _btn_down[i - 1] == 1


def _irq_alarm(now):
    # Called by vbclock while sleeping or polling: dispatch due button edges, return the
    # sim time of the next one (-1: none).
    global _irq_i
    n = len(_btn_t)
    while _irq_i < n and _btn_t[_irq_i] <= now:
        i = _irq_i
        _irq_i += 1
        before = _btn_down[i - 1] if i else 0
        if before == _btn_down[i]:
            continue
        # level falls when the button goes down on an active-low input, and so on
        falling = (_btn_down[i] == 1) == _btn_active_low
        if _irq_trigger & (Pin.IRQ_FALLING if falling else Pin.IRQ_RISING):
            if _irq_hard:
                _irq_handler(_irq_pin)
            else:
                micropython.schedule(_irq_handler, _irq_pin)
    return _btn_t[_irq_i] if _irq_i < n else -1


class Pin(_PinBase):
    """A GPIO pin of the simulated board."""

    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=0, alt=-1):
        self._id = _pin_id(id)
        self._i = _pin_index(self._id)
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None, drive=0, alt=-1):
        i = self._i
        if value is not None:
            _level[i] = 1 if value else 0
        if pull != -1:
            _pull[i] = 0 if pull is None else pull
        if mode != -1:
            _mode[i] = mode
        if _mode[i] in (Pin.OUT, Pin.OPEN_DRAIN):
            self._trace_level()

    def _trace_level(self):
        i = self._i
        if _traced[i] != _level[i] + 1:  # 0 = never traced, else level + 1
            _traced[i] = _level[i] + 1
            _log(vbfiles.T_LEVEL, i, _level[i])

    def value(self, v=None):
        i = self._i
        if v is None:
            if _mode[i] == Pin.IN:
                return self._input_level()
            return _level[i]
        _level[i] = 1 if v else 0
        if _mode[i] == Pin.OUT or _mode[i] == Pin.OPEN_DRAIN:
            self._trace_level()
        return None

    def _input_level(self):
        i = self._i
        if self._id == _button:
            down = _button_down(vbclock.now_us())
            if _btn_active_low:
                if down:
                    return 0
                return 1 if (_pull[i] == Pin.PULL_UP or _btn_external_pull) else 0
            if down:
                return 1
            return 0
        return 1 if _pull[i] == Pin.PULL_UP else 0

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def high(self):
        self.value(1)

    def low(self):
        self.value(0)

    def toggle(self):
        self.value(0 if _level[self._i] else 1)

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False):
        """Edge interrupts: only the button pin has edges; delivered while the board sleeps or polls."""
        global _irq_handler, _irq_trigger, _irq_hard, _irq_pin, _irq_i
        if self._id != _button:
            return None
        _irq_handler = handler
        _irq_trigger = trigger
        _irq_hard = hard
        _irq_pin = self
        if handler is None:
            vbclock._alarm = None
        else:
            now = vbclock.now_us()
            n = len(_btn_t)
            _irq_i = 0
            while _irq_i < n and _btn_t[_irq_i] <= now:
                _irq_i += 1
            vbclock._alarm = _irq_alarm
        return None

    def __repr__(self):
        return "Pin(%s)" % (self._id,)


class PWM:
    """PWM output on a pin; frequency and duty changes are traced."""

    def __init__(self, dest, *, freq=None, duty_u16=None, duty_ns=None, invert=False):
        pin = dest if isinstance(dest, Pin) else Pin(dest)
        self._i = pin._i
        self._freq = 1000
        self._invert = invert
        _mode[self._i] = 255
        self.init(freq=freq, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, *, freq=None, duty_u16=None, duty_ns=None, invert=None):
        if invert is not None:
            self._invert = invert
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)
        if duty_ns is not None:
            self.duty_ns(duty_ns)

    def freq(self, value=None):
        if value is None:
            return self._freq
        if not 8 <= value <= 62500000:
            raise ValueError("freq out of range")
        self._freq = value
        _log(vbfiles.T_PWM_FREQ, self._i, value)
        return None

    def duty_u16(self, value=None):
        i = self._i
        if value is None:
            return max(_duty[i], 0)
        if not 0 <= value <= 65535:
            raise ValueError("duty_u16 must be 0..65535")
        if _duty[i] != value:
            _duty[i] = value
            _log(vbfiles.T_PWM_DUTY, i, value)
        return None

    def duty_ns(self, value=None):
        if value is None:
            return self.duty_u16() * 1000000000 // (65536 * self._freq)
        self.duty_u16(min(65535, value * self._freq * 65536 // 1000000000))
        return None

    def deinit(self):
        i = self._i
        _duty[i] = -1
        _mode[i] = Pin.IN
        _traced[i] = 0
        _log(vbfiles.T_PWM_OFF, i, 0)


class _RegFile:
    """A register-file I2C device (e.g. a motor driver): stores writes, traces each byte written."""

    def __init__(self, address):
        self.address = address
        self.regs = bytearray(256)
        self._ptr = 0

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        for k in range(len(buf)):
            buf[k] = self.regs[(memaddr + k) & 0xFF]

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        for k in range(len(buf)):
            r = (memaddr + k) & 0xFF
            self.regs[r] = buf[k]
            _log(vbfiles.T_I2C_WRITE, 0, addr << 16 | r << 8 | buf[k])

    def writeto(self, addr, buf, stop=True):
        if len(buf):
            self._ptr = buf[0]
            self.writeto_mem(addr, buf[0], memoryview(buf)[1:])
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        self.readfrom_mem_into(addr, self._ptr, buf)


class _Bus:
    """What the firmware's I2C object reaches: the wired devices, or nothing (every access NACKs)."""

    def _attach(self, wired):
        self._wired = wired

    def _dev(self, addr):
        if self._wired:
            d = _devices.get(addr)
            if d is not None:
                return d
        raise OSError(_nack)

    def scan(self):
        return sorted(_devices) if self._wired else []

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        self._dev(addr).readfrom_mem_into(addr, memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        buf = bytearray(nbytes)
        self._dev(addr).readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self._dev(addr).writeto_mem(addr, memaddr, buf)

    def writeto(self, addr, buf, stop=True):
        return self._dev(addr).writeto(addr, buf, stop)

    def writevto(self, addr, vector, stop=True):
        data = bytearray()
        for b in vector:
            data.extend(b)
        return self.writeto(addr, data, stop)

    def readfrom_into(self, addr, buf, stop=True):
        self._dev(addr).readfrom_into(addr, buf, stop)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf, stop)
        return bytes(buf)


def _pins_match(scl, sda):
    return _pin_id(scl) == _pin_id(_i2c["scl"]) and _pin_id(sda) == _pin_id(_i2c["sda"])


class I2C(_Bus):
    """Hardware I2C: the devices answer only on the bus id and pins the board file wires them to."""

    def __init__(self, id=None, *, scl=None, sda=None, freq=400000, timeout=50000):
        if id is None:
            id = _i2c.get("default_bus")
            if id is None:
                raise TypeError("I2C() needs an id on this board")
        if id not in _i2c.get("buses", (0, 1)):
            raise ValueError("I2C(%s) doesn't exist" % (id,))
        if _i2c.get("rp2_pins"):  # rp2: SCL on odd pins, SDA on even, I2C0/I2C1 on alternate pairs
            if scl is not None and not (_pin_id(scl) & 1 == 1 and (_pin_id(scl) >> 1) & 1 == id):
                raise ValueError("bad SCL pin")
            if sda is not None and not (_pin_id(sda) & 1 == 0 and (_pin_id(sda) >> 1) & 1 == id):
                raise ValueError("bad SDA pin")
        if scl is None or sda is None:
            dflt = _i2c.get("defaults", {}).get(str(id))
            if dflt is None:
                dflt = _i2c if id == _i2c.get("bus") else {"scl": -1, "sda": -1}
            scl = dflt["scl"] if scl is None else scl
            sda = dflt["sda"] if sda is None else sda
        wired = bool(_i2c) and id == _i2c.get("bus") and scl != -1 and _pins_match(scl, sda)
        self._attach(wired)
        self._freq = freq

    def __repr__(self):
        return "I2C(freq=%d)" % self._freq


class SoftI2C(_Bus):
    """Bit-banged I2C on any two pins: answers when they are the wired SCL/SDA pins."""

    def __init__(self, scl, sda, *, freq=400000, timeout=50000):
        self._attach(bool(_i2c) and _pins_match(scl, sda))


class RTC:
    """The board's real-time clock, on the simulated clock; kept across soft and hard resets."""

    def __init__(self, id=0, datetime=None):
        if datetime is not None:
            self.datetime(datetime)

    def datetime(self, t=None):
        """Get or set (year, month, day, weekday, hours, minutes, seconds, subseconds); weekday 0=Monday."""
        if t is None:
            g = vbclock.gmtime(vbclock.rtc_seconds())
            return (g[0], g[1], g[2], g[6], g[3], g[4], g[5], 0)
        if len(t) < 7:
            raise ValueError("datetime needs (year, month, day, weekday, hours, minutes, seconds[, subseconds])")
        vbclock.rtc_set(vbclock.timegm(t[0], t[1], t[2], t[4], t[5], t[6]))
        return None

    init = datetime


def _wdt_bite():
    # The watchdog's timeout passed unfed on the board's clock: the bridge resets the board.
    vblink.send(vbfiles.M_WDT_BITE)
    _halt()


class WDT:
    """The watchdog: the board resets unless feed() comes within timeout ms (simulated)."""

    def __init__(self, id=0, timeout=5000):
        top = _cfg["hardware"].get("wdt_max_ms", 8388)
        if not 1 <= timeout <= top:
            raise ValueError("timeout exceeds %dms" % top)
        vblink.send_u32(vbfiles.M_WDT_START, timeout)
        vbclock.wdt_start(timeout, _wdt_bite)

    def feed(self):
        vbclock.wdt_feed()
        vblink.feed()  # the bridge's backstop for an interpreter hung where no clock is read


def unique_id():
    """The board's unique id (bytes)."""
    return bytes.fromhex(_cfg["uid"])


def reset_cause():
    return _cause


def freq(hz=None):
    global _cpu_hz
    if hz is None:
        return _cpu_hz
    _cpu_hz = hz
    return None


def _halt():
    # Wait for the host bridge to stop this interpreter (it does so at once).
    while True:
        vbclock._sleep_us(1000000)


def reset():
    """Hard reset: the bridge restarts the board (clock epoch restarts, outputs released)."""
    vblink.send(vbfiles.M_HARD_RESET)
    _halt()


def soft_reset():
    """Soft reset: like Ctrl-D at the REPL."""
    raise SystemExit


def lightsleep(ms=None):
    if ms is None:
        _halt()
    vbclock.sleep_ms(ms)


def deepsleep(ms=None):
    """Sleep ms (simulated; None = until reset), then reset with DEEPSLEEP_RESET."""
    vblink.send_u32(vbfiles.M_DEEPSLEEP, 0 if ms is None else ms)
    _halt()


def disable_irq():
    return 0


def enable_irq(state=0):
    return None
