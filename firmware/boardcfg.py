"""Board files (boards/*.json, copied to the board as /board.json): load and validate.

One definition for the board (main.py reads /board.json at power-up) and the host (tests,
`retrowalk flash --board NAME`, via retrowalk.fw.load("boardcfg")). The schema is described
in boards/README.md; validate() returns a normalised copy (defaults filled in) or raises
ValueError naming the bad field, e.g. "board.json: motor.pin: must be a GPIO number or a pin
name, got -3". Pins are ints (GPIO numbers) or strings (names the port's machine.Pin takes).
"""

import json

SCHEMA = 1
MAX_FILE_BYTES = 4096

PORTS = ("rp2", "esp32", "nrf", "stm32", "samd", "mimxrt", "unix")
# .mpy native architectures (mpy-cross -march=...): only matter for native/viper code.
MPY_ARCHS = ("x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
             "xtensa", "xtensawin", "rv32imc")
MOUNTS = ("auto", "+x", "-x", "+y", "-y", "+z", "-z")
MOTOR_KINDS = ("pwm", "gpio", "drv2605")
PULLS = ("up", "down", "none")
RATES = (26, 52, 104)
MAX_WATCHDOG_MS = 8388  # the smallest port maximum (rp2); 0 = no watchdog

_TOP = ("schema", "name", "port", "mpy_arch", "notes", "i2c", "imu", "motor", "button", "led",
        "mount", "watchdog_ms")
_I2C = ("bus", "sda", "scl", "freq", "soft")
_IMU = ("address", "power_pin", "power_level", "power_on_ms", "rate_hz", "whoami")
_MOTOR = ("kind", "pin", "active_level", "freq", "strength", "address", "actuator")
_BUTTON = ("pin", "pressed_level", "pull")
_LED = ("pin", "active_level")
_MISSING = object()


def _fail(where, what, value=_MISSING):
    if value is _MISSING:
        raise ValueError("%s: %s" % (where, what))
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    raise ValueError("%s: %s, got %s" % (where, what, text))


class _Ctx:
    # Field access with the error messages: "<file>: <path>: <problem>".

    def __init__(self, src):
        self.src = src

    def obj(self, value, path, keys):
        if not isinstance(value, dict):
            _fail(self.at(path), "must be a JSON object", value)
        for k in value:
            if k not in keys:
                _fail(self.at(_join(path, str(k))), "unknown key (allowed: %s)" % ", ".join(keys))
        return value

    def sub(self, d, key, keys, required=True):
        if key not in d:
            if required:
                _fail(self.at(key), "missing")
            return {}
        return self.obj(d[key], key, keys)

    def at(self, path):
        return self.src + ": " + path if path else self.src

    def int_(self, d, path, key, lo, hi, default=_MISSING):
        v = d.get(key, default)
        if v is _MISSING:
            _fail(self.at(_join(path, key)), "missing")
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            _fail(self.at(_join(path, key)), "must be a whole number from %d to %d" % (lo, hi), v)
        return v

    def pin(self, d, path, key, default=_MISSING):
        v = d.get(key, default)
        if v is _MISSING:
            _fail(self.at(_join(path, key)), "missing (a GPIO number or a pin name)")
        if v is None and default is None:
            return None
        ok = (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255) or (
            isinstance(v, str) and 0 < len(v) <= 16)
        if not ok:
            _fail(self.at(_join(path, key)), "must be a GPIO number or a pin name", v)
        return v

    def choice(self, d, path, key, options, default=_MISSING):
        v = d.get(key, default)
        if v is _MISSING:
            _fail(self.at(_join(path, key)), "missing (one of %s)" % ", ".join(str(o) for o in options))
        if v not in options or type(v) is not type(options[0]):  # (104.0 == 104: a float rate breaks the driver)
            _fail(self.at(_join(path, key)), "must be one of %s" % ", ".join(str(o) for o in options), v)
        return v

    def level(self, d, path, key, default):
        return self.int_(d, path, key, 0, 1, default)


def _join(path, key):
    return key if not path else path + "." + key


def validate(data, src="board.json"):
    """A normalised copy of board file `data`; ValueError naming `src` and the bad field."""
    c = _Ctx(src)
    c.obj(data, "", _TOP)
    out = {"schema": c.int_(data, "", "schema", SCHEMA, SCHEMA)}
    name = data.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 60:
        _fail(c.at("name"), "must be a text of 1 to 60 characters", name)
    try:
        name.encode()  # (CPython's json gives a lone surrogate for "\ud800", which no output can show)
    except UnicodeError:
        _fail(c.at("name"), "must be valid text (it holds a lone surrogate)", name)
    out["name"] = name
    out["port"] = c.choice(data, "", "port", PORTS)
    out["mpy_arch"] = c.choice(data, "", "mpy_arch", MPY_ARCHS)
    notes = data.get("notes", "")
    if not isinstance(notes, str):
        _fail(c.at("notes"), "must be a text", notes)
    out["notes"] = notes

    i2c = c.sub(data, "i2c", _I2C)
    soft = i2c.get("soft", False)
    if soft is not True and soft is not False:
        _fail(c.at("i2c.soft"), "must be true or false", soft)
    bus = None if soft and i2c.get("bus") is None else c.int_(i2c, "i2c", "bus", 0, 7)
    out["i2c"] = {"bus": bus, "sda": c.pin(i2c, "i2c", "sda"), "scl": c.pin(i2c, "i2c", "scl"),
                  "freq": c.int_(i2c, "i2c", "freq", 10000, 1000000, 400000), "soft": soft}

    imu = c.sub(data, "imu", _IMU)
    out["imu"] = {"address": c.int_(imu, "imu", "address", 0x6A, 0x6B),
                  "power_pin": c.pin(imu, "imu", "power_pin", None),
                  "power_level": c.level(imu, "imu", "power_level", 1),
                  "power_on_ms": c.int_(imu, "imu", "power_on_ms", 0, 1000, 0),
                  "rate_hz": c.choice(imu, "imu", "rate_hz", RATES, 104),
                  "whoami": None if imu.get("whoami") is None else c.int_(imu, "imu", "whoami", 0, 255)}

    m = c.sub(data, "motor", _MOTOR)
    kind = c.choice(m, "motor", "kind", MOTOR_KINDS)
    motor = {"kind": kind, "strength": c.int_(m, "motor", "strength", 1, 100, 100)}
    if kind == "drv2605":
        for k in ("pin", "active_level", "freq"):
            if k in m:
                _fail(c.at("motor." + k), "not used by a DRV2605 motor (it is on the I2C bus)")
        motor["address"] = c.int_(m, "motor", "address", 0x08, 0x77, 0x5A)
        if motor["address"] == out["imu"]["address"]:  # (one I2C bus: the IMU would answer for it)
            _fail(c.at("motor.address"), "is the IMU's address (imu.address) on the same I2C bus",
                  motor["address"])
        motor["actuator"] = c.choice(m, "motor", "actuator", ("erm", "lra"), "erm")
    else:
        for k in ("address", "actuator"):
            if k in m:
                _fail(c.at("motor." + k), "only a DRV2605 motor has this")
        motor["pin"] = c.pin(m, "motor", "pin")
        motor["active_level"] = c.level(m, "motor", "active_level", 1)
        if kind == "pwm":
            motor["freq"] = c.int_(m, "motor", "freq", 50, 100000, 1000)
            if motor["active_level"] != 1:
                _fail(c.at("motor.active_level"), "a PWM motor is driven high (use kind gpio for "
                      "an active-low switch)", motor["active_level"])
        elif "freq" in m:
            _fail(c.at("motor.freq"), "only a PWM motor has a frequency")
        elif m.get("strength", 100) != 100:
            _fail(c.at("motor.strength"), "a GPIO motor runs at full strength only", m["strength"])
    out["motor"] = motor

    b = c.sub(data, "button", _BUTTON)
    out["button"] = {"pin": c.pin(b, "button", "pin"),
                     "pressed_level": c.level(b, "button", "pressed_level", 0),
                     "pull": c.choice(b, "button", "pull", PULLS, "up")}
    led = data.get("led")
    if led is None:
        out["led"] = None
    else:
        c.obj(led, "led", _LED)
        out["led"] = {"pin": c.pin(led, "led", "pin"), "active_level": c.level(led, "led", "active_level", 1)}
    out["mount"] = c.choice(data, "", "mount", MOUNTS, "auto")
    out["watchdog_ms"] = c.int_(data, "", "watchdog_ms", 0, MAX_WATCHDOG_MS, 8000)
    if 0 < out["watchdog_ms"] < 1000:
        _fail(c.at("watchdog_ms"), "must be 0 (off) or at least 1000 ms", out["watchdog_ms"])

    pins = []
    for role, pin in used_pins(out):
        for other, p in pins:
            if p == pin:
                _fail(c.at(role), "pin %r is already %s" % (pin, other))
        pins.append((role, pin))
    return out


def used_pins(cfg):
    """[(field, pin)] of every pin a normalised board uses (to check that none is shared)."""
    out = [("i2c.sda", cfg["i2c"]["sda"]), ("i2c.scl", cfg["i2c"]["scl"])]
    if cfg["imu"]["power_pin"] is not None:
        out.append(("imu.power_pin", cfg["imu"]["power_pin"]))
    if "pin" in cfg["motor"]:
        out.append(("motor.pin", cfg["motor"]["pin"]))
    out.append(("button.pin", cfg["button"]["pin"]))
    if cfg["led"]:
        out.append(("led.pin", cfg["led"]["pin"]))
    return out


BOARD_FILE = "/board.json"  # where the board keeps its board file


def load(path=BOARD_FILE):
    """The validated board file at `path`; OSError if it cannot be read, ValueError if bad."""
    with open(path) as f:
        text = f.read(MAX_FILE_BYTES + 1)
    name = path.rsplit("/", 1)[-1]
    if len(text) > MAX_FILE_BYTES:
        raise ValueError("%s: larger than %d bytes" % (name, MAX_FILE_BYTES))
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("%s: not valid JSON" % name)
    return validate(data, name)


def mount_vector(mount):
    """Forward unit vector x4096 of a mount string ('+x' ... '-z'), None for 'auto'."""
    if mount == "auto":
        return None
    v = [0, 0, 0]
    v["xyz".index(mount[1])] = 4096 if mount[0] == "+" else -4096
    return tuple(v)
