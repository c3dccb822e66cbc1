"""Entry script of one virtual-board interpreter: `micropython vbboot.py BOOT.json` (run by the bridge)."""

import vbstart

vbstart.run(globals())
