"""Ways to wear the clip: rotations taking body-frame vectors (x forward, y left, z up) to the sensor."""

import math


def _rot(axis, deg):
    c = math.cos(math.radians(deg))
    s = math.sin(math.radians(deg))
    if axis == "x":
        return ((1, 0, 0), (0, c, -s), (0, s, c))
    if axis == "y":
        return ((c, 0, s), (0, 1, 0), (-s, 0, c))
    return ((c, -s, 0), (s, c, 0), (0, 0, 1))


def _mul(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


def body_to_sensor(*rots):
    """Matrix M with v_sensor = M v_body for a clip turned by the given (axis, degrees) steps."""
    m = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    for axis, deg in rots:
        m = _mul(m, _rot(axis, deg))
    # the clip's axes are the columns of m in body coordinates; the sensor reads m^T v
    return tuple(tuple(m[j][i] for j in range(3)) for i in range(3))


MOUNTINGS = {
    "front": body_to_sensor(),
    "back": body_to_sensor(("z", 180)),
    "left-hip": body_to_sensor(("z", 90)),
    "right-hip": body_to_sensor(("z", -90)),
    "tilted": body_to_sensor(("y", 18), ("x", -8)),
    "upside-down": body_to_sensor(("x", 180)),
    "on-side": body_to_sensor(("x", 90)),
    "hip-side-tilted": body_to_sensor(("z", -90), ("x", -90), ("y", 16)),
}


def apply(m, v):
    """m v for a 3-vector v."""
    return [m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2] for i in range(3)]


def nearest_axis(v):
    """The signed sensor axis closest to vector v, e.g. '-y'."""
    i = max(range(3), key=lambda k: abs(v[k]))
    return ("+" if v[i] > 0 else "-") + "xyz"[i]


def axis_vector(axis):
    """The unit vector of a signed sensor axis such as '-y'."""
    v = [0.0, 0.0, 0.0]
    v["xyz".index(axis[1])] = 1.0 if axis[0] == "+" else -1.0
    return v


def forward_axis_of(m):
    """The signed sensor axis closest to the body's forward direction, e.g. '-y'."""
    return nearest_axis([m[i][0] for i in range(3)])
