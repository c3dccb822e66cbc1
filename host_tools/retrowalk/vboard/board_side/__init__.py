"""MicroPython-side files of the virtual board (run inside the unix port); vbfiles is shared with CPython."""
