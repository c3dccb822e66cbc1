"""`micropython` on the virtual board: the built-in module, with kbd_intr() reported to the host bridge.

Installed as sys.modules["micropython"] at power-up. The interrupt character only matters on
the host side: the bridge turns it into SIGINT while code runs, and passes it through as data
after kbd_intr(-1) (mpremote mount's binary protocol relies on that).
"""

from micropython import *  # noqa: F401,F403  (the built-in module)

import vbfiles as _vbfiles
import vblink as _vblink


def kbd_intr(chr):
    """Set the character that raises KeyboardInterrupt while code runs (-1: none)."""
    if chr < 0:
        _vblink.send(_vbfiles.M_KBD_OFF)
    else:
        _vblink.send_u8(_vbfiles.M_KBD_ON, chr & 0xFF)
