"""Reading the virtual board's trace: what its pins and PWM outputs did, when its IMU FIFO was read, and when."""

import struct
from collections import namedtuple

from .board_side import vbfiles

Event = namedtuple("Event", "epoch boot t_s kind pin value")
Event.__doc__ = """One trace record: clock epoch, boot number, simulated seconds since the epoch began,
kind ("epoch", "boot", "level", "pwm_freq", "pwm_duty", "pwm_off", "off", "i2c_write", "fifo",
"fifo_start", and from
the emulated Pico "flash_erase", "flash_program" with the bytes as value),
pin name (None where no pin is involved) and value."""

_KINDS = {
    vbfiles.T_EPOCH: "epoch",
    vbfiles.T_BOOT: "boot",
    vbfiles.T_LEVEL: "level",
    vbfiles.T_PWM_FREQ: "pwm_freq",
    vbfiles.T_PWM_DUTY: "pwm_duty",
    vbfiles.T_PWM_OFF: "pwm_off",
    vbfiles.T_OFF: "off",
    vbfiles.T_I2C_WRITE: "i2c_write",
    vbfiles.T_FIFO: "fifo",
    vbfiles.T_FIFO_START: "fifo_start",
    vbfiles.T_FLASH_ERASE: "flash_erase",
    vbfiles.T_FLASH_PROGRAM: "flash_program",
}


def record(t_us, kind, index=0, boot=0, value=0):
    """One packed trace record (the host writes epoch and off records this way)."""
    return struct.pack(vbfiles.TRACE_RECORD, t_us, kind, index, boot & 0xFFFF, value)


def read(path):
    """Every event in a trace file, in order; a torn last record (power cut) is ignored."""
    with open(path, "rb") as f:
        data = f.read()
    events = []
    names = {}
    epoch = 0
    size = vbfiles.TRACE_RECORD_SIZE
    i = 0
    while i + size <= len(data):
        t_us, kind, index, boot, value = struct.unpack_from(vbfiles.TRACE_RECORD, data, i)
        i += size
        if kind == vbfiles.T_PIN:
            if i + vbfiles.TRACE_NAME_SIZE > len(data):
                break
            names[index] = data[i:i + vbfiles.TRACE_NAME_SIZE].rstrip(b"\0").decode("utf-8", "replace")
            i += vbfiles.TRACE_NAME_SIZE
            continue
        if kind == vbfiles.T_EPOCH:
            epoch = value
        if kind == vbfiles.T_BOOT:
            names = {}
        pin = names.get(index) if kind in (vbfiles.T_LEVEL, vbfiles.T_PWM_FREQ, vbfiles.T_PWM_DUTY,
                                           vbfiles.T_PWM_OFF) else None
        events.append(Event(epoch, boot, t_us / 1e6, _KINDS.get(kind, str(kind)), pin, value))
    return events


def levels(events, pin):
    """[(epoch, t_s, drive 0..1)] for one pin: its level, or PWM duty / 65535; 0 when released."""
    pin = str(pin)
    out = []
    for e in events:
        if e.pin == pin and e.kind == "level":
            out.append((e.epoch, e.t_s, float(e.value)))
        elif e.pin == pin and e.kind == "pwm_duty":
            out.append((e.epoch, e.t_s, e.value / 65535.0))
        elif e.pin == pin and e.kind == "pwm_off":
            out.append((e.epoch, e.t_s, 0.0))
        elif e.kind == "off" and out and out[-1][2] != 0.0:
            out.append((e.epoch, e.t_s, 0.0))
    return out


def on_intervals(events, pin):
    """[(epoch, start_s, end_s)] while the pin drove anything (end None if still on at the end)."""
    spans = []
    start = None
    for epoch, t, v in levels(events, pin):
        if v > 0 and start is None:
            start = (epoch, t)
        elif v == 0 and start is not None:
            spans.append((start[0], start[1], t))
            start = None
    if start is not None:
        spans.append((start[0], start[1], None))
    return spans
