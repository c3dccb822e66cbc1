"""main.py's power-up half: the board's parts (bus, pins, motor, button, LED) built with `machine`.

main.Hardware's constructor runs build(); the module is dropped again afterwards, so a walk
holds only Hardware's runtime methods (main.py). With main.py the only firmware module that
imports `machine`.
"""

from .main import _Out


def build(hw, cfg):
    """main.Hardware.__init__: the parts of a validated board file built on `hw`."""
    import machine
    from .button import PinButton

    hw._m = machine
    hw.name = cfg["name"]
    hw.imu_cfg = cfg["imu"]
    hw.rate_hz = cfg["imu"]["rate_hz"]
    hw.forward = None if cfg["mount"] == "auto" else cfg["mount"]
    hw.watchdog_ms = cfg["watchdog_ms"]
    hw.watchdog = None
    Pin = machine.Pin
    try:
        hw.board_id = machine.unique_id()
    except Exception:  # not every port has one
        hw.board_id = b""
    led = cfg["led"]
    hw.led = _Out(Pin(led["pin"], Pin.OUT), led["active_level"]) if led else None
    b = cfg["button"]
    pull = {"up": Pin.PULL_UP, "down": getattr(Pin, "PULL_DOWN", None), "none": None}[b["pull"]]
    hw.button = PinButton(Pin(b["pin"], Pin.IN, pull), b["pressed_level"])
    bus = cfg["i2c"]
    if bus["soft"]:
        hw.bus = machine.SoftI2C(scl=Pin(bus["scl"]), sda=Pin(bus["sda"]), freq=bus["freq"])
    else:
        hw.bus = machine.I2C(bus["bus"], scl=Pin(bus["scl"]), sda=Pin(bus["sda"]), freq=bus["freq"])
    imu = cfg["imu"]
    hw._imu_power = None
    if imu["power_pin"] is not None:
        hw._imu_power = Pin(imu["power_pin"], Pin.OUT, value=imu["power_level"])
    hw.motor = _motor(hw, cfg["motor"])


def _motor(hw, m):
    from . import haptics

    Pin = hw._m.Pin
    if m["kind"] == "pwm":
        pwm = hw._m.PWM(Pin(m["pin"]))
        pwm.freq(m["freq"])
        return haptics.PWMMotor(pwm, m["strength"])
    if m["kind"] == "gpio":
        return haptics.PinMotor(Pin(m["pin"], Pin.OUT), m["active_level"] == 1)
    from .drv2605 import DRV2605Motor
    try:
        return DRV2605Motor(hw.bus, m["address"], m["actuator"], m["strength"])
    except OSError as e:
        # The motor is an output: the board walks without buzzes, and says so (its error
        # log at boot, an error record in each walk: app_transitions)
        hw.motor_error = "motor: %s: walks go on without buzzes" % e
        return _NoMotor()


class _NoMotor:
    """The motor of a board whose haptic driver did not answer at power-up: it does nothing."""

    def on(self):
        pass

    off = on
