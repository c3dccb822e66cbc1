"""The emulated Raspberry Pi Pico: MicroPython's real rp2 image on rp2040js, as a test tier and the budget's judge.

See board.PicoBoard (pty + emulator + simulated IMU), emu.mjs (the emulator) and chip.py (the IMU).
"""

from .board import PicoBoard, missing, shared_dir

__all__ = ["PicoBoard", "missing", "shared_dir"]
