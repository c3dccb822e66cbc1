"""The virtual board: the firmware's unchanged main.py in the MicroPython unix port, simulated
hardware (IMU, motor, LED, button, RTC, watchdog, littlefs flash), behind a pty that real
mpremote drives like a USB serial board. See board.VirtualBoard."""

from .board import SimClock, VirtualBoard

__all__ = ["VirtualBoard", "SimClock"]
