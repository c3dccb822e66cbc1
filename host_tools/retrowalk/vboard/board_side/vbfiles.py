"""File formats and constants shared by the virtual board's host side (CPython) and its MicroPython side.

Plain Python that both interpreters import; the one definition of each format.
"""

# -- flash: littlefs2 geometry, as the rp2 port mounts its user flash ----------------------
BLOCK_SIZE = 4096  # bytes per erase block (the RP2040's flash sector)
PROG_SIZE = 256  # bytes per program operation (rp2 _boot.py: VfsLfs2(bdev, progsize=256))
READ_SIZE = 32  # VfsLfs2 default
LOOKAHEAD = 32  # VfsLfs2 default
DEFAULT_FLASH_KIB = 1408  # a Raspberry Pi Pico's MicroPython filesystem (MICROPY_HW_FLASH_STORAGE_BYTES)

# -- IMU samples file: header, then int16 little-endian ax,ay,az,gx,gy,gz per sample -------
SAMPLES_MAGIC = b"RWS1"
SAMPLES_HEADER = "<4sHH"  # magic, rate (Hz), channels (6)
SAMPLES_HEADER_SIZE = 8
SAMPLE_SIZE = 12  # bytes per sample

# -- trace of what the board's outputs did: fixed 16-byte records --------------------------
# time (sim us since the clock epoch), kind, pin index, boot number (low 16 bits), value
TRACE_RECORD = "<qBBHi"
TRACE_RECORD_SIZE = 16
TRACE_NAME_SIZE = 16  # a T_PIN record is followed by the pin's name, NUL-padded
T_EPOCH = 1  # clock restarted (power-on, hard reset): value = epoch number
T_BOOT = 2  # an interpreter started: value = reset cause
T_PIN = 3  # pin index declared; name follows
T_LEVEL = 4  # output pin level written: value 0/1
T_PWM_FREQ = 5  # value = Hz
T_PWM_DUTY = 6  # value = duty_u16 (0..65535)
T_PWM_OFF = 7  # PWM deinit: the pin stops driving
T_OFF = 8  # the interpreter stopped (reset, power cut): every output released; value = reset cause
T_I2C_WRITE = 9  # a simulated register-file device was written: value = addr << 16 | reg << 8 | byte
T_FIFO = 10  # the IMU's FIFO_STATUS1 was read (a FIFO read begins): value = samples read out before
T_FLASH_ERASE = 11  # the emulated Pico erased flash (pico/emu.mjs): value = bytes
T_FLASH_PROGRAM = 12  # the emulated Pico programmed flash: value = bytes
T_FIFO_START = 13  # the IMU wrote its FIFO's first sample since bypass: value = source samples before it

# reset causes, as machine.reset_cause() reports them
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

# -- RTC file: the board's clock setting, kept across soft resets -------------------------
RTC_RECORD = "<qq"  # epoch seconds (1970) at base, sim us at base (clock epoch frame)
RTC_RECORD_SIZE = 16
RTC_DEFAULT = (2021, 1, 1, 0, 0, 0)  # rp2 sets this at power-up

# -- clock file: the board's simulated time, published by the interpreter for the host ----
CLOCK_RECORD = "<qq"  # sim us since the clock epoch, twice (a torn read shows as a mismatch)
CLOCK_RECORD_SIZE = 16
STALL_SIM_US = 20000  # most board time one stretch of running code (between clock readings) counts
PUBLISH_SIM_US = 20000  # the published time lags the board's by at most this while the board runs

# -- in-band messages from the interpreter to the bridge ---------------------------------
# Written to stdout as MARK (random per board, MARK_SIZE bytes) + command byte + payload.
MARK_SIZE = 8
M_BOOTED = 0x42  # b"B": flash mounted, about to run boot.py
M_FRIENDLY = 0x66  # b"f": friendly REPL waiting for input (0x03 is data)
M_RAW = 0x72  # b"r": raw REPL waiting for input
M_EXEC = 0x78  # b"x": running code from the friendly REPL, boot.py or main.py
M_EXEC_RAW = 0x79  # b"y": running code from the raw REPL
M_KBD_OFF = 0x4B  # b"K": micropython.kbd_intr(-1)
M_KBD_ON = 0x6B  # b"k" + char: micropython.kbd_intr(char)
M_WDT_START = 0x57  # b"W" + u32 timeout ms
M_WDT_FEED = 0x77  # b"w"
M_WDT_BITE = 0x54  # b"T": the watchdog's timeout passed unfed (on the board's clock)
M_SOFT_RESET = 0x53  # b"S" + mode byte (MODE_FRIENDLY / MODE_RAW): exiting for a soft reset
M_HARD_RESET = 0x48  # b"H": machine.reset()
M_DEEPSLEEP = 0x44  # b"D" + u32 ms
M_FORMATTED = 0x5A  # b"Z": the flash did not mount and was formatted
PAYLOAD_SIZE = {M_KBD_ON: 1, M_WDT_START: 4, M_SOFT_RESET: 1, M_DEEPSLEEP: 4}
MODE_FRIENDLY = 0
MODE_RAW = 1
