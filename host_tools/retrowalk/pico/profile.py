"""Where the emulated Pico's CPU time goes: program-counter samples (emu.mjs --profile) per function of firmware.elf.

    python -m retrowalk.pico.profile PROFILE [--elf ../shared/rp2pico/firmware.elf] [--top 25]

Reads the ELF's symbol table itself (no ARM binutils needed): every function symbol (STT_FUNC)
with its address and size; samples below 0x4000 are the bootrom.
"""

import argparse
import bisect
import collections
import struct
import sys

from .board import shared_dir


def functions(elf_path):
    """[(start address, end address, name)] of the functions in a 32-bit little-endian ELF, sorted."""
    with open(elf_path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise ValueError("%s: not a 32-bit little-endian ELF file" % elf_path)
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    sections = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    out = []
    for sh in sections:
        if sh[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[sh[6]]  # sh_link: its string table
        str_off = strtab[4]
        for k in range(sh[5] // 16):
            name_off, value, size, info, _, shndx = struct.unpack_from("<IIIBBH", data, sh[4] + 16 * k)
            if info & 0xF != 2 or not shndx:  # STT_FUNC, defined
                continue
            end = data.index(b"\0", str_off + name_off)
            start = value & ~1  # Thumb bit
            out.append((start, start + max(size, 2), data[str_off + name_off:end].decode()))
    out.sort()
    return out


def attribute(profile_path, funcs):
    """Counter {function name: samples} of a profile file ("<hex pc> <count>" lines); total samples."""
    starts = [f[0] for f in funcs]
    counts = collections.Counter()
    total = 0
    with open(profile_path) as f:
        for line in f:
            pc, n = line.split()
            pc, n = int(pc, 16), int(n)
            total += n
            if pc < 0x4000:
                counts["<bootrom>"] += n
                continue
            i = bisect.bisect_right(starts, pc) - 1
            counts[funcs[i][2] if i >= 0 and pc < funcs[i][1] else "<0x%x>" % pc] += n
    return counts, total


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m retrowalk.pico.profile", description=__doc__.splitlines()[0])
    p.add_argument("profile")
    p.add_argument("--elf", default=str(shared_dir() / "firmware.elf"))
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args(argv)
    counts, total = attribute(a.profile, functions(a.elf))
    for name, n in counts.most_common(a.top):
        print("%5.1f %%  %s" % (100.0 * n / total, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
