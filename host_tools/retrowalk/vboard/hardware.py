"""What the virtual board's simulated hardware looks like: from a board file, and button scripts.

The wiring comes from the project's board files (boards/*.json, read with the firmware's own
boardcfg.validate); what a port does on its own (valid pins, the errno of an unanswered
I2C address, watchdog limit, missing classes) comes from _PORTS below. The result is a
hardware description, a JSON-able dict the MicroPython side reads:
    machine      banner text after "MicroPython vX.Y.Z on DATE; "
    pin_count    valid GPIO numbers are 0..pin_count-1 (0: any int)
    pin_names    {"LED": 25, ...}: string pin names the port accepts
    i2c          {"bus": 0, "scl": 5, "sda": 4,  the bus and pins the IMU is wired to
                  "buses": [0, 1],                valid I2C ids (others: ValueError)
                  "default_bus": 0,               I2C() without an id (None: id required)
                  "rp2_pins": true,               rp2 rule: SCL odd, SDA even, bus=(pin>>1)&1
                  "nack_errno": 5,                OSError errno of an unanswered address
                  "regfiles": [90]}               extra register-file devices (writes traced)
    imu          {"whoami": 0x6C, "address": 0x6A, "rate_hz": 104, "module": "sim_lsm6ds"} or None
    motor, led   {"pin": 15}  (names for the trace; the firmware decides how it drives them)
    button       {"pin": 14, "active_low": true, "external_pull": false}
    missing      machine classes the port lacks, e.g. ["WDT", "PWM"]
    wdt_max_ms, cpu_hz, heap_kib, flash_kib
"""

import copy
import json
import os

from .. import paths
from ..errors import RetrowalkError
from ..firmware import boardcfg
from .board_side import vbfiles

_COMMON = {
    "pin_count": 0,
    "pin_names": {},
    "wdt_max_ms": 8388,
    "cpu_hz": 125000000,
    "heap_kib": 512,  # the unix port is 64-bit: objects take about twice a 32-bit board's heap
    "flash_kib": vbfiles.DEFAULT_FLASH_KIB,
    "missing": [],
}
_RP2 = {"machine": "with RP2040", "pin_count": 30, "pin_names": {"LED": 25}, "buses": [0, 1], "rp2_pins": True,
        "nack_errno": 5}  # rp2 reports a NACK as EIO
_PORTS = {
    "rp2": _RP2,
    "unix": _RP2,  # the virtual board's own board file is wired like a Pico
    "esp32": {"machine": "with ESP32S3", "buses": [0, 1], "nack_errno": 19, "cpu_hz": 240000000},
    "nrf": {"machine": "with NRF52840", "buses": [0, 1], "nack_errno": 19, "cpu_hz": 64000000,
            "missing": ["WDT", "PWM"]},
}
DEFAULT_BOARD = "virtual"
SHORT_PRESS_MS = 150
LONG_PRESS_MS = 2500


def describe(board=DEFAULT_BOARD):
    """A complete hardware description from a board name (boards/NAME.json), a board file path,
    a board-file dict (has "schema"), or a hardware description dict (used as it is)."""
    if isinstance(board, dict):
        hw = from_board(board, "board") if "schema" in board else copy.deepcopy(board)
    else:
        path = str(board)
        if not os.path.isfile(path):
            path = os.path.join(str(paths.boards_dir()), "%s.json" % board)
        if not os.path.isfile(path):
            names = sorted(f[:-5] for f in os.listdir(str(paths.boards_dir())) if f.endswith(".json"))
            raise RetrowalkError("unknown board %r" % (board,), hint="one of %s, or a board JSON file" % ", ".join(names))
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            raise RetrowalkError("%s: cannot read board file: %s" % (path, e))
        hw = from_board(data, path)
    _check(hw)
    return hw


def from_board(data, where):
    """Hardware description from a board file's contents (validated by the firmware's boardcfg)."""
    try:
        cfg = boardcfg.validate(data, os.path.basename(str(where)))
    except ValueError as e:
        raise RetrowalkError(str(e)) from None
    port = _PORTS.get(cfg["port"], {"buses": [0, 1], "nack_errno": 19})
    hw = dict(copy.deepcopy(_COMMON), **copy.deepcopy(port))
    hw["machine"] = ("%s %s" % (cfg["name"], port["machine"])) if port.get("machine") else cfg["name"]
    if "virtual" not in cfg["name"].lower():
        hw["machine"] += " (virtual)"
    bus = cfg["i2c"]
    hw["i2c"] = {"bus": bus["bus"], "scl": bus["scl"], "sda": bus["sda"], "buses": hw.pop("buses"),
                 "default_bus": bus["bus"], "rp2_pins": hw.pop("rp2_pins", False),
                 "nack_errno": hw.pop("nack_errno")}
    imu = cfg["imu"]
    hw["imu"] = {"whoami": imu.get("whoami") or 0x6C, "address": imu["address"], "rate_hz": imu["rate_hz"],
                 "module": "sim_lsm6ds"}
    motor = cfg["motor"]
    if motor["kind"] == "drv2605":
        hw["i2c"]["regfiles"] = [motor["address"]]
        hw["motor"] = None
    else:
        hw["motor"] = {"pin": motor["pin"]}
    b = cfg["button"]
    hw["button"] = {"pin": b["pin"], "active_low": b["pressed_level"] == 0, "external_pull": b["pull"] == "none"}
    hw["led"] = {"pin": cfg["led"]["pin"]} if cfg.get("led") else None
    if hw["led"] and isinstance(hw["led"]["pin"], int) and "LED" in hw["pin_names"]:
        hw["pin_names"] = {"LED": hw["led"]["pin"]}  # Pin("LED") is the board's own LED
    return hw


def _check(hw):
    for key in ("machine", "i2c", "imu", "button"):
        if key not in hw:
            raise RetrowalkError("virtual board description lacks %r" % key)
    imu = hw["imu"]
    if imu is not None and not (isinstance(imu, dict) and "whoami" in imu and "address" in imu):
        raise RetrowalkError("virtual board description: imu needs whoami and address (or None for no chip)")


def role_pins(hw):
    """{"motor": pin, "led": pin, "button": pin} for the parts the description names."""
    return {role: hw[role]["pin"] for role in ("motor", "led", "button") if hw.get(role)}


def button_edges(script):
    """[(t_ms, pressed)] level changes from a button script, times from the start of each boot.

    Entries are (t_ms, what): what = True/False (pressed / released from then on), "press"
    (a short press), "long" (a long press), or a number (held that many ms).
    """
    edges = []
    for i, item in enumerate(script or ()):
        try:
            t, what = item
            t = float(t)
        except (TypeError, ValueError):
            raise RetrowalkError("button script entry %d: expected (t_ms, what), got %r" % (i, item)) from None
        if t < 0:
            raise RetrowalkError("button script entry %d: negative time %r" % (i, t))
        if what is True or what is False:
            edges.append((t, bool(what)))
            continue
        if what == "press":
            hold = SHORT_PRESS_MS
        elif what == "long":
            hold = LONG_PRESS_MS
        elif isinstance(what, (int, float)) and what > 0:
            hold = float(what)
        else:
            raise RetrowalkError("button script entry %d: %r is not True/False, 'press', 'long' or a duration"
                                 % (i, what))
        edges.append((t, True))
        edges.append((t + hold, False))
    edges.sort(key=lambda e: e[0])
    return [[t, down] for t, down in edges]
