"""Board files (boards/*.json): every file validates, pins are not shared, the README lists
them all, broken files are refused with the field named, and the virtual board accepts its own."""

import copy
import json
import re

import pytest

from retrowalk import paths
from retrowalk.vboard import hardware

from retrowalk.firmware import boardcfg as B
BOARDS = sorted(paths.boards_dir().glob("*.json"))
README = (paths.boards_dir() / "README.md").read_text()


def raw(name):
    return json.loads((paths.boards_dir() / name).read_text())


@pytest.mark.parametrize("path", BOARDS, ids=[p.stem for p in BOARDS])
def test_every_board_file_validates(path):
    data = json.loads(path.read_text())
    cfg = B.validate(data, path.name)
    assert B.validate(cfg) == cfg  # the normalised form is a fixed point
    assert cfg["name"] == data["name"]


@pytest.mark.parametrize("path", BOARDS, ids=[p.stem for p in BOARDS])
def test_no_pin_is_used_twice(path):
    data = json.loads(path.read_text())
    pins = [data["i2c"]["sda"], data["i2c"]["scl"], data["button"]["pin"]]
    if data["motor"].get("pin") is not None:
        pins.append(data["motor"]["pin"])
    if data.get("led"):
        pins.append(data["led"]["pin"])
    if data["imu"].get("power_pin") is not None:
        pins.append(data["imu"]["power_pin"])
    assert len(set(pins)) == len(pins)


def test_the_boards_the_project_promises_are_there():
    ports = {p.stem: raw(p.name)["port"] for p in BOARDS}
    assert {"nano_rp2040_connect", "pico_lsm6dsox", "xiao_nrf52840_sense", "virtual"} <= set(ports)
    assert "esp32" in ports.values()
    names = [raw(p.name)["name"] for p in BOARDS]
    assert len(set(names)) == len(names)


def test_board_facts_from_their_pinouts():
    # Checked against the boards' published pinouts (see boards/README.md for the sources).
    nano = raw("nano_rp2040_connect.json")
    assert (nano["i2c"]["bus"], nano["i2c"]["sda"], nano["i2c"]["scl"], nano["imu"]["address"]) == (0, 12, 13, 0x6A)
    assert nano["led"]["pin"] == 6
    xiao = raw("xiao_nrf52840_sense.json")
    # internal I2C on P0.07 / P0.27, IMU power on P1.08 (= 32 + 8), LSM6DS3TR-C at 0x6A
    assert (xiao["i2c"]["sda"], xiao["i2c"]["scl"], xiao["imu"]["power_pin"]) == (7, 27, 40)
    assert (xiao["imu"]["address"], xiao["imu"]["whoami"]) == (0x6A, 0x6A)
    assert xiao["watchdog_ms"] == 0  # the nrf port has no machine.WDT


def test_readme_lists_every_board_file_and_only_those():
    listed = set(re.findall(r"`([a-z0-9_]+)\.json`", README))
    assert listed == {p.stem for p in BOARDS}


def test_readme_documents_every_field():
    for key in B._TOP + tuple("i2c." + k for k in B._I2C) + tuple("imu." + k for k in B._IMU) + \
            tuple("motor." + k for k in B._MOTOR) + tuple("button." + k for k in B._BUTTON) + \
            tuple("led." + k for k in B._LED):
        assert "`%s`" % key in README, key


def test_virtual_board_file_wires_the_simulated_hardware():
    hw = hardware.describe("virtual")
    data = raw("virtual.json")
    assert (hw["i2c"]["bus"], hw["i2c"]["sda"], hw["i2c"]["scl"]) == (0, 4, 5)
    assert hw["imu"]["address"] == data["imu"]["address"] and hw["imu"]["whoami"] == 0x6C
    assert (hw["motor"]["pin"], hw["button"]["pin"], hw["led"]["pin"]) == (15, 14, 25)


def _mutate(base, path, value):
    data = copy.deepcopy(base)
    d = data
    keys = path.split(".")
    for k in keys[:-1]:
        d = d[k]
    if value is KeyError:
        del d[keys[-1]]
    else:
        d[keys[-1]] = value
    return data


BROKEN = [
    ("motor", KeyError, "board.json: motor: missing"),
    ("motor.pin", -3, "board.json: motor.pin: must be a GPIO number or a pin name, got -3"),
    ("motor.pin", True, "motor.pin: must be a GPIO number"),
    ("button.pin", 15, "board.json: button.pin: pin 15 is already motor.pin"),
    ("led.pin", 4, "board.json: led.pin: pin 4 is already i2c.sda"),
    ("imu.address", 0x50, "board.json: imu.address: must be a whole number from 106 to 107, got 80"),
    ("imu.rate_hz", 100, "imu.rate_hz: must be one of 26, 52, 104"),
    # 104.0 == 104, but the driver's register maths needs an int: the board failed at every boot
    ("imu.rate_hz", 104.0, "board.json: imu.rate_hz: must be one of 26, 52, 104, got 104.0"),
    ("i2c.freq", "fast", "i2c.freq: must be a whole number"),
    ("i2c.scl", KeyError, "board.json: i2c.scl: missing"),
    ("motr", {}, "board.json: motr: unknown key"),
    ("motor.kind", "servo", "motor.kind: must be one of pwm, gpio, drv2605"),
    ("motor.address", 0x5A, "motor.address: only a DRV2605 motor has this"),
    ("mount", "x", "board.json: mount: must be one of auto, +x"),
    ("watchdog_ms", 500, "watchdog_ms: must be 0 (off) or at least 1000 ms"),
    ("watchdog_ms", 60000, "watchdog_ms: must be a whole number from 0 to 8388"),
    ("port", "avr", "board.json: port: must be one of"),
    ("schema", 2, "board.json: schema: must be a whole number from 1 to 1"),
    ("led.active_level", 2, "led.active_level: must be a whole number from 0 to 1"),
    ("button.pull", "weak", "button.pull: must be one of up, down, none"),
    ("name", "", "board.json: name: must be a text of 1 to 60 characters"),
    # ("\ud800" in the file: CPython's json gives a lone surrogate, which flash could not print)
    ("name", "Pico \ud800", "board.json: name: must be valid text (it holds a lone surrogate)"),
]


@pytest.mark.parametrize("path,value,message", BROKEN, ids=["%s=%r" % (p, v) for p, v, _ in BROKEN])
def test_broken_board_files_are_refused_naming_the_field(path, value, message):
    data = _mutate(raw("pico_lsm6dsox.json"), path, value)
    with pytest.raises(ValueError) as e:
        B.validate(data)
    assert message in str(e.value)


def test_motor_kinds_need_their_own_fields():
    base = raw("pico_lsm6dsox.json")
    drv = dict(base, motor={"kind": "drv2605", "pin": 15})
    with pytest.raises(ValueError, match="motor.pin: not used by a DRV2605"):
        B.validate(drv)
    ok = B.validate(dict(base, motor={"kind": "drv2605"}))
    assert ok["motor"] == {"kind": "drv2605", "strength": 100, "address": 0x5A, "actuator": "erm"}
    with pytest.raises(ValueError, match="motor.freq: only a PWM motor"):
        B.validate(dict(base, motor={"kind": "gpio", "pin": 15, "freq": 100}))
    with pytest.raises(ValueError, match="motor.active_level: a PWM motor is driven high"):
        B.validate(dict(base, motor={"kind": "pwm", "pin": 15, "active_level": 0}))


def test_a_drv2605_at_the_imus_address_is_refused():
    # both sit on the board's one I2C bus: the IMU would answer for the motor driver, and the
    # board walked without buzzes ("not a DRV2605") instead of the file being refused
    base = raw("pico_lsm6dsox.json")
    imu = B.validate(base)["imu"]["address"]
    with pytest.raises(ValueError) as e:
        B.validate(dict(base, motor={"kind": "drv2605", "address": imu}))
    assert str(e.value) == "board.json: motor.address: is the IMU's address (imu.address) on the same I2C bus, got %d" % imu
    assert B.validate(dict(base, motor={"kind": "drv2605", "address": imu ^ 1}))["motor"]["address"] == imu ^ 1


def test_soft_i2c_needs_no_bus_id():
    base = raw("pico_lsm6dsox.json")
    cfg = B.validate(dict(base, i2c={"soft": True, "sda": 4, "scl": 5}))
    assert cfg["i2c"] == {"bus": None, "sda": 4, "scl": 5, "freq": 400000, "soft": True}


def test_load_reports_bad_json_and_size(tmp_path):
    p = tmp_path / "board.json"
    p.write_text('{"schema": 1,')
    with pytest.raises(ValueError, match="board.json: not valid JSON"):
        B.load(str(p))
    p.write_text(" " * (B.MAX_FILE_BYTES + 1))
    with pytest.raises(ValueError, match="larger than"):
        B.load(str(p))


def test_mount_vector():
    assert B.mount_vector("auto") is None
    assert B.mount_vector("+x") == (4096, 0, 0)
    assert B.mount_vector("-z") == (0, 0, -4096)


def test_same_result_in_the_micropython_vm(mp_run, tmp_path):
    out = {}
    for path in BOARDS:
        got = mp_run("import json\nfrom firmware import boardcfg\nprint(json.dumps(boardcfg.load(%r)))" % str(path))
        out[path.stem] = json.loads(got.strip().splitlines()[-1])
        assert out[path.stem] == B.validate(json.loads(path.read_text()))
    bad = tmp_path / "board.json"
    bad.write_text(json.dumps(_mutate(raw("pico_lsm6dsox.json"), "motor.pin", -3)))
    got = mp_run("from firmware import boardcfg\ntry:\n    boardcfg.load(%r)\nexcept ValueError as e:\n    print(e)" % str(bad))
    assert got.strip() == "board.json: motor.pin: must be a GPIO number or a pin name, got -3"


def test_a_float_rate_is_refused_on_the_board_too(mp_run, tmp_path):
    bad = tmp_path / "board.json"
    bad.write_text(json.dumps(_mutate(raw("pico_lsm6dsox.json"), "imu.rate_hz", 104.0)))
    got = mp_run("from firmware import boardcfg\ntry:\n    boardcfg.load(%r)\nexcept ValueError as e:\n    print(e)" % str(bad))
    assert got.strip() == "board.json: imu.rate_hz: must be one of 26, 52, 104, got 104.0"
