"""Streaming step detector and forward/backward classifier on int16 IMU counts.

    c = StepClassifier(rate_hz=104, accel_ug_per_lsb=122, gyro_udps_per_lsb=17500, forward=None)
        forward: None = learn the mounting at the warm-up (the walk starts walking forward);
        or the sensor axis that points forward when worn: '+x' '-x' '+y' '-y' '+z' '-z'.
    c.feed(ax, ay, az, gx, gy, gz)      one sample, counts (int16)
    c.feed_batch(buf, n)                n samples from array('h') buf laid out ax,ay,az,gx,gy,gz
    c.flush()                           end of data: call the steps still held for look-ahead
    while c.available():
        k = c.pop()                     slot index into the event ring:
        c.ev_sample[k]                  sample index (0 = first sample fed) of the foot contact
        c.ev_dir[k]                     FORWARD (1) or BACKWARD (2)
        c.ev_conf[k]                    confidence 0..100 (%)
    c.last_contact                  sample index of the newest accepted step's contact, known
                                    ~0.65 s after it (its direction is called two steps later);
                                    -1 before the first
    c.mount_ignored                 True once the configured axis was found pointing up or down
                                    while walking: the facing is then learned from the steps
                                    after that, as with None from the first

How it works (integer maths only; nothing allocates per sample):
- Samples are averaged into 26 Hz bins (1, 2 or 4 samples per bin), so every time constant
  below is a fixed number of bins whatever the sensor rate.
- Gravity is a slow low-pass of the acceleration and gives "up". The vertical acceleration,
  smoothed, peaks once per step just after the foot contact. A peak that stands out from the
  troughs on both sides is a step candidate; walking starts when three strong candidates come
  at a regular step rhythm (or four softer ones at a walking cadence: a soft walker, whose
  cues must agree more closely, and slower, down to 46 steps/min, more closely still; or six
  soft ones at a walking rhythm, less closely: a slow, soft walker's cues wander; a walker
  whose earlier steps were soft starts again from softer candidates, as inside a bout) and their
  direction cues agree (a walk travels one way, in the sensor frame even while it turns;
  standing, swaying or swinging the arms goes nowhere), or when a slow step's second, weaker
  hump lies between strong candidates that come at a step rhythm, travel one way and twist
  alternate ways (the pelvis turns one way after one foot lands, the other way after the
  other), and the steps that the start gate held back are credited then, less a first peak
  that comes too soon or, soft, stands out less than a quarter as much as the next (the weight
  shift that starts a walk).
- Inside a bout a strong peak is a step (strong: for a soft walker, against a third of the
  walker's typical step); a soft one (the last steps before a stop, a shuffle) only where the
  rhythm says the next step is due. Two peaks inside one step keep the stronger,
  and when the rhythm shows a hole the best peak inside it is credited as the missing step.
  When the bout ends, the best peak late off the rhythm (up to 1.5 intervals after the last
  step) is credited as the closing step (the trailing foot set down, softly and late, as the
  walker stops); its cue, braking, is no evidence of the direction, so it keeps the walk's.
  With no such peak, its thud is credited: a foot set down with little weight jolts the trunk
  for one bin, which the smoothing flattens; the raw vertical acceleration's sharpest rise
  from one bin to the next, 10/16 to 24/16 of the interval after the last step, counts if it
  is as large as a strong peak's prominence (for a soft walker, a third of its typical step,
  if less) and not in the data's last 0.27 s (the hand on the button).
  A slow step can show two humps, and the rhythm then locks on half a step; when the
  vertical signal repeats at twice the interval but not at once it, the interval is doubled
  (and halved again when the signal comes to repeat at half of it).
  A new bout after a pause is called from its own steps' cues, not from the direction before.
- Direction: over one step period around each peak, the horizontal acceleration's component
  at the step frequency that runs a quarter cycle out of phase with the vertical one (the
  imaginary part of their cross-spectrum) points the way the body travels: the trunk vaults
  over the stance leg like an inverted pendulum, slowest at the top, so speed and height
  trade off in a fixed phase whichever way the walker faces, and walking backward reverses
  the travel. The facing direction is learned from the first forward steps (the warm-up) or
  taken from the configured axis (unless that axis points within 30 degrees of up or down for
  2.5 s of walking: a clip worn otherwise than its board file says, whose forward lies across
  gravity; the facing is then learned from the steps after that, taken as forward, and
  mount_ignored says so); each step's cue is that component's part along the facing as a
  share of the horizontal and vertical swings, so a step whose swing barely travels (a
  stumble, a shuffle, noise) weighs little however its direction happens to line up.
- Each step's call waits for the next two steps: the direction switches only when three steps
  in a row disagree with the current one, and the call lands on the first of them, so a switch
  is recognised at its first or second step while single odd steps never flip it; or when two
  strides in a row disagree, one leg's step clearly in both (an uneven gait: the other leg's
  cue flat or even reversed).
- A step taken while turning keeps the direction the walk had (its cue is no evidence of
  which way the walker goes, and teaches no facing): the step's mean yaw rate tops 0.75 rad/s,
  or the strides on both sides of it (two steps each, so the pelvis's own swing cancels) turn
  faster than 0.5 rad/s. A walker going backward down a corridor turns and goes on backward.
"""

from micropython import const
from array import array

from .eventring import EventRing

FORWARD = const(1)
BACKWARD = const(2)

_EVENTS = const(16)  # event ring (steps waiting to be popped)
_RING = const(64)  # bin history, power of two: 2.46 s at 26 Hz
_MASK = const(63)
_CAND = const(8)  # candidates held by the start gate

# ---- time constants in 26 Hz bins (38.5 ms) ------------------------------------------------
_G_SHIFT = const(5)  # gravity EMA time constant: 2**5 bins = 1.2 s
_UP_EVERY = const(8)  # recompute the up unit vector every 8 bins
_VS_LAG = const(3)  # the smoothing [1 2 3 4 3 2 1]/16 centres bin n's value 3 bins back
_PEAK_L = const(6)  # a step peak is the largest value over 6 bins (0.23 s) before ...
_PEAK_R = const(6)  # ... and 6 after (wide enough that a slow step's two humps make one peak)
_TROUGH = const(12)  # its prominence: the drop to the lowest of the 12 bins before ...
_TROUGH_R = const(8)  # ... or of the 8 after, whichever is the smaller drop
_DELAY = const(17)  # a peak is examined 17 bins later, when its widest window is complete
_CONTACT = const(1)  # the foot contact is about one bin before the peak
_CUE_SHIFT = const(1)  # the direction cue's window is centred one bin after the contact
_MIN_INT = const(7)  # shortest step interval: 0.27 s (222 steps/min)
_SAME = const(10)  # a peak sooner than 10/16 of the step interval is part of the same step ...
_HOLE = const(28)  # ... unless its step would be 28/16 of an interval after the one before
_MAX_INT = const(34)  # longest step interval inside a bout: 1.31 s (also the widest window)
_END_GAP = const(52)  # no step for 2 s ends the bout
_GATE = const(3)  # strong candidates at a regular rhythm that start a bout ...
_GATE_SOFT = const(4)  # ... or softer ones at a walking cadence, 11..24 bins apart
_SOFT_MIN = const(11)  # (0.42 s: 142 steps/min)
_SOFT_MAX = const(24)  # (0.92 s: 65 steps/min)
_AGREE = const(8)  # ... whose cues travel one way: their unit vectors add up to half their number
_AGREE_SOFT = const(10)  # (soft ones to 10/16: a swaying body's soft bobs keep a rhythm too) ...
_SLOW_MAX = const(34)  # a slow walker's soft steps up to _MAX_INT apart (1.31 s: 46 steps/min) ...
_AGREE_SLOW = const(13)  # ... must travel one way more clearly: their unit vectors add up to 13/16
_GATE_LONG = const(6)  # or six soft ones at a walking rhythm (11..34 bins apart) whose cues add up
_AGREE_LONG = const(8)  # to half their number (a slow, soft walker's cues wander more than four show)
_TWIST_BINS = const(20)  # a candidate's twist: the pelvis's turn over the 20 bins after its contact
_SHIFT = const(27)  # a bout's first peak sooner than 27/32 of the next interval is a weight shift
_WEAK_FIRST = const(4)  # ... and so is a soft one standing out under a quarter as much as the next
_RHYTHM = const(3)  # a soft peak counts within 3/16 of the step interval of where it was due
_HALF_MAX = const(16)  # an interval of up to 16 bins may have locked on half a slow step: ...
_HALF_AT = const(2)  # ... the vertical signal correlates below 0.2 at the interval (tenths) ...
_HALF_AT2 = const(6)  # ... and above 0.6 at twice it; a doubled one is halved again when ...
_WHOLE_AT = const(5)  # ... it correlates above 0.5 at half the interval, and more than at it
_HALF_STEPS = const(12)  # the lock comes from the start gate: looked for over a bout's first steps
_LAST = const(24)  # a bout's closing step: a peak late off the rhythm, up to 24/16 of the interval
_THUD_END = const(24)  # ... or a thud at least 24 bins before the newest (flush()'s 17 still bins
# and the 0.27 s before them: the hand that ends a walk on the button is no step)
_WAIT = const(2)  # steps that must follow a step before it is called (look-ahead)
_CAL_MIN = const(4)  # warm-up steps before the facing direction is first estimated ...
_CAL_STEPS = const(12)  # ... and the steps that refine it (auto mounting)

# ---- thresholds in physical units, converted to counts at construction ----------------------
# (a peak's prominence and its height above gravity, vertical acceleration, cm/s²)
_PROM_GATE_CMS2 = const(30)  # a candidate for the start gate rises 0.3 m/s² (after a soft walker's
# steps, as a bout does, a third of its typical step if less: a stop does not make it firmer) ...
_PEAK_GATE_CMS2 = const(0)  # ... to above gravity;
_PROM_CMS2 = const(60)  # a strong one (the 3-step gate) 0.6 m/s² (and a closing step's thud, see _thud) ...
_PEAK_CMS2 = const(30)  # ... to +0.3 m/s²;
_PROM_WALK_CMS2 = const(40)  # inside a bout a step 0.4 m/s² (or a third of the walker's ...
_TYPICAL = const(3)  # ... typical step, a running mean, if less: a soft walker; not below soft) ...
_PEAK_WALK_CMS2 = const(10)  # ... to +0.1 m/s²,
_PROM_SOFT_CMS2 = const(20)  # or, on the step rhythm only, 0.2 m/s² ...
_PEAK_SOFT_CMS2 = const(-50)  # ... to no lower than -0.5 m/s² (a soft, shuffling step)
_TURN_MRAD = const(750)  # a step whose mean yaw rate tops 0.75 rad/s has no direction cue
_TURN_STRIDE_MRAD = const(500)  # a stride whose mean yaw rate tops 0.5 rad/s is a turn
_TWIST_MRAD = const(10)  # strong candidates with weak ones between twist alternate ways, 0.01 rad each
_SWITCH = const(300)  # a step disagrees when its cue is below -300/4096 (x4096, see _cue)
_STRIDE = const(600)  # or two strides in a row disagree: each one's two cues sum below -600 ...
_LEG = const(2500)  # ... and the same leg's cue is below -2500 in both (one leg shows the way)

_VERTICAL = const(3547)  # a configured axis within 30 degrees of up: its part of the up vector
_VERTICAL_UPS = const(8)  # ... over 8 up-vector updates in a row while walking (2.5 s) is ignored

_Q = const(12)  # unit vectors are scaled by 2**12
_ONE = const(4096)

# 128 + 127*sin(2*pi*i/64): the step-frequency DFT folds its phase to 64 steps (bytes: 64 B
# of RAM instead of a tuple's 500)
_SIN = (b"\x80\x8c\x99\xa5\xb1\xbc\xc7\xd1\xda\xe2\xea\xf0\xf5\xfa\xfd\xfe"
        b"\xff\xfe\xfd\xfa\xf5\xf0\xea\xe2\xda\xd1\xc7\xbc\xb1\xa5\x99\x8c"
        b"\x80\x74\x67\x5b\x4f\x44\x39\x2f\x26\x1e\x16\x10\x0b\x06\x03\x02"
        b"\x01\x02\x03\x06\x0b\x10\x16\x1e\x26\x2f\x39\x44\x4f\x5b\x67\x74")


def _isqrt(n):
    """Integer square root (floor) of 0 <= n < 2**30."""
    if n <= 0:
        return 0
    # Newton's method from the power of two just above the root: a few divisions, not ~16
    x = 2
    t = n
    while t >= 4:
        t >>= 2
        x <<= 1
    y = (x + n // x) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


def _ratio(a, b):
    """4096 * a / b for 0 <= a, 0 < b < 2**30 (0 if b is 0), with no product past 2**30."""
    while a >= 262144:
        a >>= 1
        b >>= 1
    return (a << 12) // b if b > 0 else 0


def _clamp(x, lim):
    return -lim if x < -lim else (lim if x > lim else x)


def _uneven(i, prev):
    """Two step intervals (bins) too unlike for a walking rhythm: they differ by more than a
    third of the longer."""
    return 3 * abs(i - prev) > (i if i > prev else prev)


def _one_way(x, y, z, n, agree):
    """n unit vectors (Q12) adding up to (x, y, z) travel one way: the sum is at least agree/16
    of n long."""
    t = n * agree << 8  # n * agree/16 * 4096
    return x * x + y * y + z * z >= t * t


def _shl(a, n):
    """Shift the first n items of array a one place toward the start."""
    i = 1
    while i < n:
        a[i - 1] = a[i]
        i += 1


def _axis(spec):
    """Parse '+x' ... '-z' into (index, sign)."""
    if not isinstance(spec, str) or len(spec) != 2 or spec[0] not in "+-" or spec[1] not in "xyz":
        raise ValueError("forward axis must be one of +x -x +y -y +z -z")
    return "xyz".index(spec[1]), (1 if spec[0] == "+" else -1)


class StepClassifier:
    """Step detector + forward/backward classifier fed with raw int16 counts."""

    def __init__(self, rate_hz=104, accel_ug_per_lsb=122, gyro_udps_per_lsb=17500, forward=None):
        if rate_hz not in (26, 52, 104):
            raise ValueError("rate_hz must be 26, 52 or 104")
        if not 10 <= accel_ug_per_lsb <= 2000:
            raise ValueError("accel_ug_per_lsb must be 10..2000")
        if not 1000 <= gyro_udps_per_lsb <= 200000:
            raise ValueError("gyro_udps_per_lsb must be 1000..200000")
        self.rate_hz = rate_hz
        self._per_bin = rate_hz // 26
        self._bin_shift = (0, 0, 1, 1, 2)[self._per_bin]  # log2 of samples per bin
        # 1 m/s² = 101972 µg; 1 rad/s = 57296 mdps
        self._prom = _PROM_CMS2 * 10197 // (accel_ug_per_lsb * 10)
        self._prom_walk = _PROM_WALK_CMS2 * 10197 // (accel_ug_per_lsb * 10)
        self._peak_min = _PEAK_CMS2 * 10197 // (accel_ug_per_lsb * 10)
        self._peak_walk = _PEAK_WALK_CMS2 * 10197 // (accel_ug_per_lsb * 10)
        self._prom_soft = _PROM_SOFT_CMS2 * 10197 // (accel_ug_per_lsb * 10)
        self._peak_soft = _PEAK_SOFT_CMS2 * 10197 // (accel_ug_per_lsb * 10)
        self._prom_gate = _PROM_GATE_CMS2 * 10197 // (accel_ug_per_lsb * 10)
        self._peak_gate = _PEAK_GATE_CMS2 * 10197 // (accel_ug_per_lsb * 10)
        self._typical = _TYPICAL * self._prom_walk  # running mean of the steps' prominence
        self._turn = _TURN_MRAD * 57296 // gyro_udps_per_lsb
        self._turn_stride = _TURN_STRIDE_MRAD * 57296 // gyro_udps_per_lsb
        self._twist_min = _TWIST_MRAD * 57296 * 26 // gyro_udps_per_lsb  # a sum over 26 Hz bins
        # events out
        self.ev_sample = array("i", bytes(4 * _EVENTS))
        self.ev_dir = bytearray(_EVENTS)
        self.ev_conf = bytearray(_EVENTS)
        self.events = EventRing(_EVENTS)  # slots of the ev_* arrays; .dropped counts losses
        # bin accumulation
        self.samples = 0
        self._k = 0
        self._sx = self._sy = self._sz = 0
        self._wx = self._wy = self._wz = 0
        self._one = array("h", bytes(12))  # feed()'s sample
        self._n = 0  # bins completed
        # gravity (EMA state: counts << _G_SHIFT) and the up unit vector (Q12)
        self._gx = self._gy = self._gz = 0
        self._ux = self._uy = 0
        self._uz = _ONE
        # histories, one value per bin
        self._hx = array("h", bytes(2 * _RING))  # acceleration minus gravity, sensor frame
        self._hy = array("h", bytes(2 * _RING))
        self._hz = array("h", bytes(2 * _RING))
        self._v = array("h", bytes(2 * _RING))  # vertical acceleration
        self._vs = array("h", bytes(2 * _RING))  # the same, smoothed [1 2 3 4 3 2 1]/16
        self._yaw = array("h", bytes(2 * _RING))  # rotation rate about up
        # candidates waiting at the start gate: bin, cue, yaw rate, unit cue vector
        self._cbin = array("i", bytes(4 * _CAND))
        self._cs = array("i", bytes(4 * _CAND))
        self._cyaw = array("i", bytes(8 * _CAND))  # and at [_CAND, 2 * _CAND): its twist (_gate)
        self._cprom = array("i", bytes(4 * _CAND))
        # unit vectors (Q12, int16): [0, _CAND) the step's own cue, [_CAND, 2 * _CAND) its travel
        # since the candidate before, [2 * _CAND, 3 * _CAND) since the strong one before (_gate)
        self._cqx = array("h", bytes(6 * _CAND))
        self._cqy = array("h", bytes(6 * _CAND))
        self._cqz = array("h", bytes(6 * _CAND))
        self._cstrong = bytearray(_CAND)
        self._nc = 0
        self.walking = False
        self._last = -1000  # bin of the last accepted step
        self._before = -1000  # ... and of the one before it
        # the runner-up: the strongest peak off the rhythm since the last step (it may fill a hole)
        self._rbin = -1
        self._rs = self._ryaw = self._rh = self._rqx = self._rqy = self._rqz = 0
        self.last_contact = -1
        self._interval = 14  # running step interval, bins
        self._doubled = False  # the interval was doubled off a half-step lock
        self._nbout = 0  # steps accepted in this bout
        self._en = self._c1 = self._c2 = 0  # _correlate's results
        # the (up to) two steps waiting for their look-ahead: slot 0 older, slot 1 newer
        self._np = 0
        self._pbin = array("i", bytes(4 * _WAIT))
        self._ps = array("i", bytes(4 * _WAIT + 4))  # and at [_WAIT]: the last called step's cue
        self._pyaw = array("i", bytes(4 * _WAIT))
        self._pqx = array("i", bytes(4 * _WAIT))
        self._pqy = array("i", bytes(4 * _WAIT))
        self._pqz = array("i", bytes(4 * _WAIT))
        self._pprom = 0
        self._prev_yaw = 0  # mean yaw rate over the last step called
        self._dir = FORWARD
        # facing direction (unit, Q12, horizontal) and the cue of the current candidate
        self._fx = self._fy = self._fz = 0
        self._qx = self._qy = self._qz = 0
        self._s = 0
        self._yaw_step = 0
        self._height = 0
        self._calx = self._caly = self._calz = 0
        self._ncal = 0
        self.forward_q12 = array("h", (0, 0, 0))
        self.mount_ignored = False
        self._vertical = 0  # up-vector updates in a row, walking, with the configured axis vertical
        if forward is None:
            self._fixed = -1
            self._fsign = 1
            self.calibrated = False
        else:
            self._fixed, self._fsign = _axis(forward)
            self.calibrated = True

    # ---- input --------------------------------------------------------------------------------
    def feed(self, ax, ay, az, gx, gy, gz):
        """Take one sample of accelerometer and gyroscope counts."""
        b = self._one
        b[0] = ax
        b[1] = ay
        b[2] = az
        b[3] = gx
        b[4] = gy
        b[5] = gz
        self.feed_batch(b, 1)

    def feed_batch(self, buf, n):
        """Take n samples from buf (array('h')), laid out ax,ay,az,gx,gy,gz per sample."""
        # The bin's sums live in locals here: an attribute costs a dictionary lookup each time,
        # most of a sample's cost on a board.
        j = 0
        end = 6 * n
        per = self._per_bin
        k = self._k
        sx = self._sx
        sy = self._sy
        sz = self._sz
        wx = self._wx
        wy = self._wy
        wz = self._wz
        while j < end:
            sx += buf[j]
            sy += buf[j + 1]
            sz += buf[j + 2]
            wx += buf[j + 3]
            wy += buf[j + 4]
            wz += buf[j + 5]
            k += 1
            if k == per:
                sh = self._bin_shift
                self._bin_in(sx >> sh, sy >> sh, sz >> sh, wx >> sh, wy >> sh, wz >> sh)
                sx = sy = sz = wx = wy = wz = k = 0
            j += 6
        self._k = k
        self._sx = sx
        self._sy = sy
        self._sz = sz
        self._wx = wx
        self._wy = wy
        self._wz = wz
        self.samples += n

    # ---- one 26 Hz bin ----------------------------------------------------------------------
    def _bin_in(self, ax, ay, az, wx, wy, wz):
        """Process one bin of mean acceleration and rotation rate (counts)."""
        n = self._n
        self._n = n + 1
        if n == 0:  # start the gravity estimate at the first reading
            self._gx = ax << _G_SHIFT
            self._gy = ay << _G_SHIFT
            self._gz = az << _G_SHIFT
        self._gx += ax - (self._gx >> _G_SHIFT)
        self._gy += ay - (self._gy >> _G_SHIFT)
        self._gz += az - (self._gz >> _G_SHIFT)
        if n % _UP_EVERY == 0:
            self._up()
        i = n & _MASK
        ux = self._ux
        uy = self._uy
        uz = self._uz
        # histories are int16: clamp (only a saturated sensor gets near; written out, as a call
        # per value costs more than the rest of a bin on a board)
        hx = ax - (self._gx >> _G_SHIFT)
        hx = -32767 if hx < -32767 else (32767 if hx > 32767 else hx)
        hy = ay - (self._gy >> _G_SHIFT)
        hy = -32767 if hy < -32767 else (32767 if hy > 32767 else hy)
        hz = az - (self._gz >> _G_SHIFT)
        hz = -32767 if hz < -32767 else (32767 if hz > 32767 else hz)
        self._hx[i] = hx
        self._hy[i] = hy
        self._hz[i] = hz
        # |counts| <= 2**15 times |u| <= 2**12: each product < 2**27, the sum < 2**29
        v = (hx * ux + hy * uy + hz * uz) >> _Q
        v = -32767 if v < -32767 else (32767 if v > 32767 else v)
        self._v[i] = v
        h = self._v  # |v| <= 2**15: the weighted sum stays below 2**20
        self._vs[i] = (v + 2 * h[(n - 1) & _MASK] + 3 * h[(n - 2) & _MASK] + 4 * h[(n - 3) & _MASK]
                       + 3 * h[(n - 4) & _MASK] + 2 * h[(n - 5) & _MASK] + h[(n - 6) & _MASK]) >> 4
        w = (wx * ux + wy * uy + wz * uz) >> _Q
        self._yaw[i] = -32767 if w < -32767 else (32767 if w > 32767 else w)
        c = n - _DELAY
        if c >= _PEAK_L:  # bins before the first hold zeros: no motion
            self._check_peak(c)
            if self.walking and c - self._last > _END_GAP:
                self._end_bout()

    def _up(self):
        """Recompute the up unit vector (Q12) from the gravity estimate."""
        # clamp so the squares stay below 2**30 on 32-bit ports (1 g is ~8200 counts at ±4 g)
        gx = _clamp(self._gx >> _G_SHIFT, 16383)
        gy = _clamp(self._gy >> _G_SHIFT, 16383)
        gz = _clamp(self._gz >> _G_SHIFT, 16383)
        m = _isqrt(gx * gx + gy * gy + gz * gz)
        if m < 64:
            return  # free fall or no signal: keep the old direction
        self._ux = (gx << _Q) // m
        self._uy = (gy << _Q) // m
        self._uz = (gz << _Q) // m
        if self._fixed >= 0:  # follow the horizontal plane as the clip's tilt settles
            self._fixed_facing()

    def _fixed_facing(self):
        """Facing direction from the configured sensor axis, made horizontal; an axis that points
        up or down while walking is given up for a learned facing."""
        i = self._fixed
        u = self._ux if i == 0 else (self._uy if i == 1 else self._uz)
        if u > _VERTICAL or u < -_VERTICAL:
            # (counted only while walking: bending over to tie a shoe tips the clip for a while)
            if self.walking:
                self._vertical += 1
            if self._vertical >= _VERTICAL_UPS:
                self._fixed = -1  # learn it from the walk's forward steps, as with no axis given
                self._set_facing(0, 0, 0)  # (forward_q12 zero: unknown until learned)
                self.calibrated = False
                self.mount_ignored = True
                self._dir = FORWARD
                # the cues still waiting for a call were the dropped facing's: no evidence
                self._ps[0] = self._ps[1] = self._ps[_WAIT] = self._rs = 0
                return
        else:
            self._vertical = 0
        fx = (_ONE if i == 0 else 0) - ((u * self._ux) >> _Q)
        fy = (_ONE if i == 1 else 0) - ((u * self._uy) >> _Q)
        fz = (_ONE if i == 2 else 0) - ((u * self._uz) >> _Q)
        s = self._fsign
        if self._unit(s * fx, s * fy, s * fz):
            self._set_facing(self._qx, self._qy, self._qz)

    def _unit(self, x, y, z):
        """Scale (x, y, z) (|each| < 2**30) to length 4096 into self._qx/_qy/_qz; returns its
        length (about; 0 if it is zero)."""
        n = 0
        while x > 16383 or x < -16383 or y > 16383 or y < -16383 or z > 16383 or z < -16383:
            x >>= 1
            y >>= 1
            z >>= 1
            n += 1
        m = _isqrt(x * x + y * y + z * z)
        if m == 0:
            return 0
        self._qx = (x << _Q) // m
        self._qy = (y << _Q) // m
        self._qz = (z << _Q) // m
        return m << n

    def _set_facing(self, fx, fy, fz):
        self._fx = fx
        self._fy = fy
        self._fz = fz
        self.forward_q12[0] = fx
        self.forward_q12[1] = fy
        self.forward_q12[2] = fz
        self.calibrated = True

    # ---- step candidates ----------------------------------------------------------------------
    def _check_peak(self, c):
        vs = self._vs
        p = vs[c & _MASK]
        if p < (self._peak_soft if self.walking else self._peak_gate):
            return
        if vs[(c + 1) & _MASK] >= p:
            return  # (most bins are on a rising slope: the quickest way out)
        k = 1
        while k <= _PEAK_L:
            if vs[(c - k) & _MASK] > p:
                return
            k += 1
        k = 1
        while k <= _PEAK_R:
            if vs[(c + k) & _MASK] >= p:
                return
            k += 1
        lo = p
        k = 1
        while k <= _TROUGH:
            x = vs[(c - k) & _MASK]
            if x < lo:
                lo = x
            k += 1
        # prominence: the smaller of the drops on both sides (a hump on a slope is no step)
        lo2 = p
        k = 1
        while k <= _TROUGH_R:
            x = vs[(c + k) & _MASK]
            if x < lo2:
                lo2 = x
            k += 1
        if lo2 > lo:
            lo = lo2
        h = p - lo
        if self.walking:
            if h < self._prom_soft:
                return
            if c - self._last <= 2 * self._interval:
                self._in_bout(c, p, h)
                return
            # the rhythm broke (a pause, or shuffling after stopping): a new bout must pass the gate
            self._end_bout()
        if h >= self._walker_bar(self._prom_gate) and p >= self._peak_gate:
            self._height = h
            self._gate(c, h >= self._prom and p >= self._peak_min)

    def _in_bout(self, c, p, h):
        """Walking: a peak at bin c (height p, prominence h) within two intervals of the last step."""
        T = self._interval
        gap = c - self._last
        # a soft walker's steps: the bar for a strong step is lower (not below a soft one's)
        strong = h >= self._walker_bar(self._prom_walk) and p >= self._peak_walk
        if self._doubled and strong and 16 * gap < _SAME * T and self._undouble():
            T = self._interval  # the doubling was wrong, or the walker sped up
        if gap < _MIN_INT or 16 * gap < _SAME * T:
            if not strong:
                return
            self._height = h
            self._cue(c, self._interval)
            # two peaks inside one step: keep the stronger as the step, unless dropping the
            # older would leave a hole in the rhythm (then both are steps, their peaks jittered)
            if gap >= _MIN_INT and 16 * (c - self._before) >= _HOLE * T:
                self._accept(c, gap)
            elif h > self._pprom:
                self._hold(self._np - 1, c, self._s, self._yaw_step, h, self._qx, self._qy, self._qz)
            return
        if strong or 16 * abs(gap - T) <= _RHYTHM * T:
            # a soft peak (the last steps of a bout, a shuffle) counts only on the step rhythm
            self._height = h
            self._cue(c, self._interval)
            r = self._rbin
            if (16 * gap >= _HOLE * T and r > self._last and 16 * (r - self._last) >= _SAME * T
                    and 16 * (c - r) >= _SAME * T):
                # a hole in the rhythm: the best peak inside it was a step too
                self._accept(r, r - self._last, True)
            self._accept(c, c - self._last)
        elif h > self._rh:
            # off the rhythm: the best such peak since the last step may yet fill a hole
            self._height = h
            self._cue(c, self._interval)
            self._rbin = c
            self._rs = self._s
            self._ryaw = self._yaw_step
            self._rh = h
            self._rqx = self._qx
            self._rqy = self._qy
            self._rqz = self._qz

    def _walker_bar(self, most):
        """A prominence bar (counts) that follows a soft walker: a third of the walker's typical
        step, not below a soft step's bar and not above `most`."""
        b = self._typical // _TYPICAL
        return self._prom_soft if b < self._prom_soft else (most if b > most else b)

    def _accept(self, c, gap, runner=False):
        """A step at bin c, gap bins after the last (runner: the one kept as the runner-up)."""
        T = self._interval
        if 16 * gap < _HOLE * T:
            self._interval = T + ((gap - T) >> 2)
            if self._doubled:
                self._undouble()
            elif self._nbout < _HALF_STEPS and self._half_step(self._interval):
                # a slow step's two humps were taken for two steps: from here on the pair is
                # one step (the stronger peak kept) and the cue is taken over the whole step
                self._interval <<= 1
                self._doubled = True
        if runner:
            self._step(c, self._rs, self._ryaw, self._rh, self._rqx, self._rqy, self._rqz)
        else:
            self._step(c, self._s, self._yaw_step, self._height, self._qx, self._qy, self._qz)

    def _half_step(self, T):
        """A rhythm of T bins is half a step: the vertical signal repeats at twice T, not at
        once it (a slow walker's two humps per step; never judged while turning, when steps are
        irregular)."""
        y = self._yaw_step
        if T > _HALF_MAX or 2 * y > self._turn_stride or -2 * y > self._turn_stride:
            return False
        self._correlate(2 * T, T, 2 * T)
        return 10 * self._c1 < _HALF_AT * self._en and 10 * self._c2 > _HALF_AT2 * self._en

    def _undouble(self):
        """Halve a doubled interval once the signal repeats at half of it (True if halved)."""
        T = self._interval
        self._correlate(T if T <= 32 else 64 - T, T >> 1, T)
        if 10 * self._c1 > _WHOLE_AT * self._en and self._c1 > self._c2:
            self._interval = T >> 1
            self._doubled = False
            return True
        return False

    def _correlate(self, w, lag1, lag2):
        """Over the newest w bins of the smoothed vertical signal, every other bin (it is
        smoothed well below 13 Hz): its energy and its products with itself lag1 and lag2 bins
        earlier -> self._en, _c1, _c2 (w + lag <= 64: the ring)."""
        vs = self._vs
        i = self._n - w  # the window's first bin (the newest written is _n - 1)
        en = c1 = c2 = 0
        while i < self._n:
            x = vs[i & _MASK] >> 4  # |x| <= 2**11: at most 17 products sum below 2**27 ...
            en += x * x
            c1 += x * (vs[(i - lag1) & _MASK] >> 4)
            c2 += x * (vs[(i - lag2) & _MASK] >> 4)
            i += 2
        self._en = en >> 2  # ... and a quarter of that times 10 stays below 2**30
        self._c1 = c1 >> 2
        self._c2 = c2 >> 2

    def _cue(self, c, L):
        """Direction cue of the step peaking at bin c, L bins long -> self._s (-4096..4096: how
        much of the step's swing travels along the facing), self._yaw_step, and the cue's unit
        vector self._qx/_qy/_qz.

        DFT at the step frequency over one step period centred on the peak: for each axis the
        imaginary part of (horizontal x conj(vertical)); the vertical part of that vector is
        zero by construction, so it lies in the horizontal plane.
        """
        L = _MIN_INT if L < _MIN_INT else (_MAX_INT if L > _MAX_INT else L)
        i0 = c + _CUE_SHIFT - _VS_LAG - (L >> 1)  # one step, centred just after the contact
        cx = sx = cy = sy = cz = sz = cv = sv = 0
        yaw = 0
        j = 0
        # (locals: an attribute or a global costs a dictionary lookup each time round)
        sin = _SIN
        hx = self._hx
        hy = self._hy
        hz = self._hz
        hv = self._v
        hw = self._yaw
        while j < L:
            i = (i0 + j) & _MASK
            p = (j * 64 + (L >> 1)) // L
            sn = sin[p & 63] - 128
            cs = sin[(p + 16) & 63] - 128
            h = hx[i]  # |h| <= 2**15, |sin| <= 127, L <= 34: sums stay below 2**28
            cx += h * cs
            sx += h * sn
            h = hy[i]
            cy += h * cs
            sy += h * sn
            h = hz[i]
            cz += h * cs
            sz += h * sn
            h = hv[i]
            cv += h * cs
            sv += h * sn
            yaw += hw[i]
            j += 1
        # scale to 14 bits so the cross products stay below 2**29
        cx = _clamp(cx >> 10, 16383)
        sx = _clamp(sx >> 10, 16383)
        cy = _clamp(cy >> 10, 16383)
        sy = _clamp(sy >> 10, 16383)
        cz = _clamp(cz >> 10, 16383)
        sz = _clamp(sz >> 10, 16383)
        cv = _clamp(cv >> 10, 16383)
        sv = _clamp(sv >> 10, 16383)
        yaw //= L
        self._yaw_step = yaw
        q = self._unit(cx * sv - sx * cv, cy * sv - sy * cv, cz * sv - sz * cv)
        if not q:
            self._qx = self._qy = self._qz = 0
        if yaw > self._turn or yaw < -self._turn or not self.calibrated:
            self._s = 0  # the cue of a sharply turning step is not about walking direction
            return
        # the cue: the quadrature vector's part along the facing, as a share of the horizontal
        # and vertical swings' product (|Im(H V*)| <= |H| |V|): a step whose horizontal swing is
        # out of quadrature (noise, a stumble, a weak step) weighs little in the vote, however
        # well its direction happens to line up. The horizontal swing is the sensor frame's
        # less the vertical one; each c*c + s*s < 2**29, a quarter of them summed < 2**29.
        h = (((cx * cx + sx * sx) >> 2) + ((cy * cy + sy * sy) >> 2) + ((cz * cz + sz * sz) >> 2)
             - ((cv * cv + sv * sv) >> 2))
        d = _isqrt(h) * _isqrt(cv * cv + sv * sv)  # |H| |V| / 2: below 20067 * 23170 < 2**29
        k = _ratio(q, 2 * d)
        if k > _ONE:
            k = _ONE  # (rounding)
        self._s = ((self._qx * self._fx + self._qy * self._fy + self._qz * self._fz) >> _Q) * k >> _Q

    def _gate(self, c, strong):
        """Not walking: hold the candidate; three strong ones at a regular rhythm start a bout,
        or four softer ones at a walking cadence (a soft walker), when their cues travel one way
        (the softer ones' more closely, a slow walker's more closely still)."""
        j = self._nc
        if j and c - self._cbin[j - 1] < _MIN_INT:
            # two peaks inside one step: keep the stronger
            if self._height <= self._cprom[j - 1]:
                return
            j -= 1
        elif j == _CAND:
            self._shift_candidates()
            j -= 1
        # two cues: over the time since the candidate before, for the check that the candidates
        # travel one way (a slow walker's step can be twice the default interval); and over the
        # interval, the step's own (the spacing of candidates is no step period yet while a walk
        # starts: a weight shift, a first short step)
        L = c - self._cbin[j - 1] if j else 0
        self._cue(c, L if _MIN_INT <= L <= _MAX_INT else self._interval)
        self._keep(_CAND + j)
        # a strong one's travel since the strong one before, over weak ones between (a slow
        # step's second hump), and its twist: which leg it stands on
        p = -1
        if strong:
            p = j - 1
            while p >= 0 and not self._cstrong[p]:
                p -= 1
            L = c - self._cbin[p] if p >= 0 else 0
            if not _MIN_INT <= L <= _MAX_INT:
                L = self._interval
            elif p < j - 1:
                self._cue(c, L)
            self._keep(2 * _CAND + j)
            self._cyaw[_CAND + j] = self._twist(c, L)
        self._cue(c, self._interval)
        self._cbin[j] = c
        self._cs[j] = self._s
        self._cyaw[j] = self._yaw_step
        self._cprom[j] = self._height
        self._keep(j)
        self._cstrong[j] = strong
        self._nc = j + 1
        b = self._cbin
        agree = _AGREE
        hump = False  # the strong candidates start the bout, the weak ones between were humps
        if j + 1 >= _GATE and self._regular(j, _GATE, _MIN_INT, _MAX_INT, True):
            n = _GATE
        elif j + 1 >= _GATE_SOFT and self._regular(j, _GATE_SOFT, _SOFT_MIN, _SOFT_MAX, False):
            n = _GATE_SOFT
            agree = _AGREE_SOFT
        elif j + 1 >= _GATE_SOFT and self._regular(j, _GATE_SOFT, _SOFT_MIN, _SLOW_MAX, False):
            # at a rhythm this slow a swaying body can pass for a walk: the cues must agree more
            n = _GATE_SOFT
            agree = _AGREE_SLOW
        else:
            s = self._humps(j, p) if strong else -1
            if s < 0:
                return
            hump = True
        if hump:
            T = (b[j] - b[s]) >> 1
        else:
            T = (b[j] - b[j - 2]) >> 1  # the gate's rhythm: the new bout's interval
            if not self._travel(j, n, agree) and not self._half_step(T):
                # the cues point anywhere: no walk, unless the rhythm is a slow step's two humps
                # (their cues, half a step long, alternate; the bout's first steps find the lock),
                # or six candidates keep the rhythm and travel one way (a slow, soft walker's cues
                # wander from step to step, but six of them still add up to half their number)
                if not (j + 1 >= _GATE_LONG and self._regular(j, _GATE_LONG, _SOFT_MIN, _SLOW_MAX, False)
                        and self._travel(j, _GATE_LONG, _AGREE_LONG)):
                    return
                n = _GATE_LONG
            # credit the chain: the gate's candidates and earlier ones that link at step rhythm
            s = j - n + 1
            while s > 0 and _MIN_INT <= b[s] - b[s - 1] <= _MAX_INT:
                s -= 1
            # a first peak that comes too soon before the next is the weight shift that starts
            # a walk (gait initiation: ~0.4 s before the first contact, against a step of ~0.55 s)
            while s < j - 1 and 32 * (b[s + 1] - b[s]) < _SHIFT * (b[s + 2] - b[s + 1]):
                s += 1
        self._open(s, j, T, hump)

    def _open(self, s, j, T, hump):
        """Start a bout at the gate's candidates s..j (interval T bins; hump: the weak ones
        between the strong are a slow step's second humps, no steps): call its direction from
        their cues and credit them."""
        self.walking = True
        self._interval = T
        self._doubled = False  # a half-step lock is the bout's own: found over its first steps
        self._nbout = 0
        # a new bout is called from its own cues, not from the direction before the pause
        k = s
        a = 0
        m = 0
        while k <= j:
            if self._cstrong[k] or not hump:
                a += self._cs[k]  # |cue| <= 4096, at most _CAND of them
                m += 1
            k += 1
        a //= m
        if a > _SWITCH:
            self._dir = FORWARD
        elif a < -_SWITCH:
            self._dir = BACKWARD
        # a soft first peak that stands out less than a quarter as much as the next is the
        # weight shift too (a walk's first step stands out 0.4-0.7 as much as its second): its
        # cue has had its say in the bout's direction, but it is no step
        while (s < j - 1 and not self._cstrong[s]
               and _WEAK_FIRST * self._cprom[s] < self._cprom[s + 1]):
            s += 1
        b = self._cbin
        k = s
        while k <= j:
            if self._cstrong[k] or not hump:
                self._step(b[k], self._cs[k], self._cyaw[k], self._cprom[k],
                           self._cqx[k], self._cqy[k], self._cqz[k])
            k += 1
        self._nc = 0

    def _humps(self, j, p):
        """Strong candidate j, strong p before it and the strong one before p, with weak ones
        between, are a slow walker's steps and the weak ones their second humps: the three come
        at a regular step rhythm, travel one way, and stand on alternate legs (the pelvis twists
        alternate ways after them; a walker whose weaker leg bounces less has the same pattern of
        peaks, but its strong ones, a stride apart, twist the same way). Returns the first one's
        index, or -1."""
        q = p - 1
        while q >= 0 and not self._cstrong[q]:
            q -= 1
        if q < 0 or j - q < 3:
            return -1  # no weak one between: the strong gate's case
        b = self._cbin
        i1 = b[p] - b[q]
        i2 = b[j] - b[p]
        if i1 < _MIN_INT or i1 > _MAX_INT or i2 < _MIN_INT or i2 > _MAX_INT:
            return -1
        if _uneven(i1, i2):
            return -1
        # they stand on alternate legs: their twists turn alternate ways, each clear of noise
        t = self._twist_min
        a = self._cyaw[_CAND + q]
        m = self._cyaw[_CAND + p]
        e = self._cyaw[_CAND + j]
        if not (a < -t and m > t and e < -t or a > t and m < -t and e > t):
            return -1
        x = self._cqx
        y = self._cqy
        z = self._cqz
        o = 2 * _CAND
        sx = x[o + q] + x[o + p] + x[o + j]
        sy = y[o + q] + y[o + p] + y[o + j]
        sz = z[o + q] + z[o + p] + z[o + j]
        return q if _one_way(sx, sy, sz, 3, _AGREE) else -1

    def _keep(self, i):
        """Store the unit vector self._qx/_qy/_qz in slot i of the candidates' vectors."""
        self._cqx[i] = self._qx
        self._cqy[i] = self._qy
        self._cqz[i] = self._qz

    def _twist(self, c, L):
        """Sum of the yaw rate (counts) over the step after the contact of the peak at bin c (L
        bins, at most _TWIST_BINS: what the ring holds): the pelvis turns one way after one
        leg's contact and the other way after the other's."""
        w = L if L < _TWIST_BINS else _TWIST_BINS
        i = c - _VS_LAG - _CONTACT
        t = 0
        while w:
            w -= 1
            t += self._yaw[(i + w) & _MASK]  # |yaw| <= 2**15, w <= 20: below 2**20
        return t

    def _regular(self, j, n, lo, hi, strong):
        """The n candidates ending at j come at a regular rhythm, intervals lo..hi bins (and are
        all strong, if asked)."""
        b = self._cbin
        k = j - n + 1
        if strong:
            while k <= j:
                if not self._cstrong[k]:
                    return False
                k += 1
            k = j - n + 1
        prev = 0
        while k < j:
            i = b[k + 1] - b[k]
            if i < lo or i > hi:
                return False
            if prev and _uneven(i, prev):
                return False  # not regular enough for walking
            prev = i
            k += 1
        return True

    def _travel(self, j, n, agree):
        """The n candidates ending at j travel one way: their unit cue vectors add up to at
        least agree/16 of n (a walk's do, step after step, in the sensor frame, even while it
        turns; standing, swaying or swinging the arms, they point anywhere)."""
        k = _CAND + j - n + 1
        x = y = z = 0
        while k <= _CAND + j:
            x += self._cqx[k]  # |q| = 4096, n <= 6: each sum stays within 2**15, _one_way's < 2**30
            y += self._cqy[k]
            z += self._cqz[k]
            k += 1
        return _one_way(x, y, z, n, agree)

    def _shift_candidates(self):
        # block arrays shift whole: each block's last slot takes the next block's first, unused
        # once the oldest candidate is gone
        _shl(self._cbin, _CAND)
        _shl(self._cs, _CAND)
        _shl(self._cyaw, 2 * _CAND)
        _shl(self._cprom, _CAND)
        _shl(self._cstrong, _CAND)
        _shl(self._cqx, 3 * _CAND)
        _shl(self._cqy, 3 * _CAND)
        _shl(self._cqz, 3 * _CAND)
        self._nc -= 1

    # ---- accepted steps ----------------------------------------------------------------------
    def _step(self, c, s, yaw, height, qx, qy, qz):
        """An accepted step at bin c; the oldest waiting step is called once two follow it."""
        if self._np == _WAIT:
            self._decide(True, s)
        self._before = self._last
        self._nbout += 1
        self._typical += (height - self._typical) >> 3
        self._rbin = -1
        self._rh = 0
        self._hold(self._np, c, s, yaw, height, qx, qy, qz)
        self._np += 1

    def _hold(self, j, c, s, yaw, height, qx, qy, qz):
        """Put a step in waiting slot j (0 = older, 1 = newer)."""
        self._last = c
        self.last_contact = self._sample_of(c)
        self._pbin[j] = c
        self._ps[j] = s
        self._pyaw[j] = yaw
        self._pqx[j] = qx
        self._pqy[j] = qy
        self._pqz[j] = qz
        self._pprom = height

    def _learn(self, s):
        """Warm-up: the facing direction is the mean cue vector of the first forward steps.

        A first estimate after _CAL_MIN steps; up to _CAL_STEPS steps refine it, each only if
        its cue agrees with the estimate so far (s >= 0), so a walk that turns backward early
        does not teach the opposite.
        """
        qx = self._pqx[0]
        qy = self._pqy[0]
        qz = self._pqz[0]
        if (not qx and not qy and not qz) or self._ncal >= _CAL_STEPS or (self.calibrated and s < 0):
            return
        self._calx += qx
        self._caly += qy
        self._calz += qz
        self._ncal += 1
        if self._ncal >= _CAL_MIN and self._unit(self._calx, self._caly, self._calz):
            self._set_facing(self._qx, self._qy, self._qz)

    def _decide(self, more, s_new=0):
        """Call the oldest waiting step.

        The direction switches when the _WAIT waiting steps and the newest one (cue s_new, when
        more=True) all disagree with it; the call lands on the first of them, so a switch is
        recognised at its first step, while a stumble, or the last steps before stopping (which
        brake the body and so mimic the other direction), never switch it. (Waiting for three
        steps instead of two was tried: fewer odd steps flip, but more backward steps are missed.)
        It also switches when two strides in a row (the step called before and this one; the
        next two) disagree, the same leg's cue clearly in both: a walker whose other leg's cue
        is flat or reversed never has three disagreeing steps in a row.
        """
        y0 = self._pyaw[0]
        a = y0 + self._prev_yaw  # twice the stride's mean yaw rate, with the step before ...
        b = y0 + self._pyaw[1] if self._np > 1 else 0  # ... and with the step after
        lim = 2 * self._turn_stride
        turning = (y0 > self._turn or y0 < -self._turn or
                   ((a > lim or a < -lim) and (b > lim or b < -lim)))
        self._prev_yaw = y0
        if self._fixed < 0 and not turning:
            self._learn(self._ps[0])
        s = self._ps[0]
        s1 = self._ps[1] if self._np > 1 else 0
        if more and self._np == _WAIT and not turning:
            # every waiting step and the newest (s_new) disagree: the direction switches (not in
            # a turn: a slow one's every other step is under _turn, its cue kept)
            sign = -1 if self._dir == FORWARD else 1
            k = 0
            while k < _WAIT and sign * self._ps[k] > _SWITCH:
                k += 1
            sp = self._ps[_WAIT]  # the step called before, if it is of this bout
            # or one leg's cues clear, the other's flat or even reversed (a weak or stiff leg,
            # a slow walker): two strides in a row that travel the other way, the same leg's
            # step clearly so in each, switch too
            if ((k == _WAIT and sign * s_new > _SWITCH) or
                    (self._nbout > _WAIT and sign * (sp + s) > _STRIDE and sign * (s1 + s_new) > _STRIDE
                     and (sign * sp > _LEG and sign * s1 > _LEG or sign * s > _LEG and sign * s_new > _LEG))):
                self._dir = BACKWARD if self._dir == FORWARD else FORWARD
        self._ps[_WAIT] = s
        d = self._dir
        # confidence: how strongly this step and the next agree with the call, 0..100
        a = (s + s1) >> 1
        if d == BACKWARD:
            a = -a
        if turning or not self.calibrated:
            a = 0
        self._emit(self._pbin[0], d, 50 + (a * 50 >> _Q))
        self._np -= 1
        k = 1
        while k <= self._np:
            self._pbin[k - 1] = self._pbin[k]
            self._ps[k - 1] = self._ps[k]
            self._pyaw[k - 1] = self._pyaw[k]
            self._pqx[k - 1] = self._pqx[k]
            self._pqy[k - 1] = self._pqy[k]
            self._pqz[k - 1] = self._pqz[k]
            k += 1

    def _end_bout(self):
        r = self._rbin - self._last
        if self.walking and self._interval < r and 16 * r <= _LAST * self._interval:
            # the walker stopped: the best peak off the rhythm since the last step, late (so
            # past the rhythm's window), was the closing step: the trailing foot set down softly
            # as the walk slows (its cue, braking, says nothing of the direction: it neither
            # votes nor teaches the facing; no runner-up: r < 0)
            self._step(self._rbin, 0, self._ryaw, self._rh, 0, 0, 0)
        elif self.walking:
            # or it made no peak, only a thud (no cue either, and no prominence to teach)
            r = self._thud()
            if r >= 0:
                self._step(r + _VS_LAG + _CONTACT, 0, 0, self._typical, 0, 0, 0)
        self._rbin = -1
        self._rh = 0
        while self._np:
            self._decide(False)
        self._prev_yaw = 0
        self.walking = False
        self._nc = 0

    def _thud(self):
        """The contact bin of a closing step too soft to make a peak, or -1: a foot set down with
        little weight jolts the trunk for a bin, which the smoothing flattens. The raw vertical
        acceleration's sharpest rise from one bin to the next, at least a strong peak's
        prominence (for a soft walker a third of its typical step, if less), from 10/16 to 24/16
        of the interval after the last step's contact."""
        T = self._interval
        v = self._v
        n = self._n
        # a soft walker's foot jolts the trunk less: like its strong steps, its thud is judged
        # against a third of its typical step when that is less
        best = self._walker_bar(self._prom) - 1
        a = self._last - _VS_LAG - _CONTACT
        i = a + (_SAME * T + 15 >> 4)
        if i <= n - _RING:
            i = n - _RING + 1  # (the bin before it is still in the ring)
        e = a + (_LAST * T >> 4) + 1
        if e > n - _THUD_END:
            e = n - _THUD_END
        at = -1
        while i < e:
            d = v[i & _MASK] - v[(i - 1) & _MASK]
            if d > best:
                best = d
                at = i
            i += 1
        return at

    def _emit(self, c, d, conf):
        k = self.events.push()
        self.ev_sample[k] = self._sample_of(c)
        self.ev_dir[k] = d
        self.ev_conf[k] = 0 if conf < 0 else (100 if conf > 100 else conf)

    def _sample_of(self, c):
        """Sample index of the foot contact for a step peaking at bin c."""
        # bin c of the smoothed signal is centred _VS_LAG bins back; bins hold _per_bin samples
        b = c - _VS_LAG - _CONTACT
        if b < 0:
            b = 0
        return b * self._per_bin + (self._per_bin >> 1)

    # ---- output -------------------------------------------------------------------------------
    def flush(self):
        """End of data: examine the last peaks as if the sensor then held still, and call
        the step still waiting for its look-ahead."""
        gx = self._gx >> _G_SHIFT
        gy = self._gy >> _G_SHIFT
        gz = self._gz >> _G_SHIFT
        k = 0
        while k < _DELAY:
            self._bin_in(gx, gy, gz, 0, 0, 0)
            k += 1
        if self._np:
            self._end_bout()

    def available(self):
        """Number of events waiting to be popped."""
        return self.events.count

    def pop(self):
        """Slot index of the oldest waiting event (call only when available())."""
        return self.events.pop()
