#!/usr/bin/python3
"""Key bytes in a live process's memory (issue 11, item 6), for tests/system/55-*.

  memscan.py scan PID NAME=HEX...   every copy of each byte string, one line per hit:
      hit NAME ADDR START-END PERMS FLAGS PATH
    then one line per NAME: count NAME TOTAL SECMEM OTHER UNLOCKED
    FLAGS are the mapping's smaps VmFlags that matter here: lo (locked), dd (excluded from
    core dumps: skp's secmem sets it on its own mappings and nothing else in skpd does).
  memscan.py locked PID   VmLck against the mappings: prints
      vmlck VMLCK_KB MAPPED_KB and one "unlocked START-END PERMS PATH" line per mapping
    without lo (the kernel's [vvar], [vdso] and [vsyscall] cannot be locked and are skipped).
"""
import re
import sys

SPECIAL = ("[vvar]", "[vvar_vclock]", "[vdso]", "[vsyscall]")


def mappings(pid):
    """[(start, end, perms, path, vmflags, size_kb)] from /proc/PID/smaps."""
    out, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$", line)
            if m:
                cur = [int(m[1], 16), int(m[2], 16), m[3], m[4].strip(), set(), 0]
                out.append(cur)
            elif line.startswith("VmFlags:"):
                cur[4] = set(line.split()[1:])
            elif line.startswith("Size:"):
                cur[5] = int(line.split()[1])
    return out


def scan(pid, pats):
    maps = mappings(pid)
    counts = {n: [0, 0, 0, 0] for n in pats}
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for start, end, perms, path, flags, _ in maps:
            if perms[0] != "r" or path in SPECIAL:
                continue
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except OSError:
                continue
            for name, pat in pats.items():
                i = data.find(pat)
                while i >= 0:
                    secmem = "dd" in flags
                    c = counts[name]
                    c[0] += 1
                    c[1 if secmem else 2] += 1
                    c[3] += "lo" not in flags
                    print(f"hit {name} {start + i:x} {start:x}-{end:x} {perms} "
                          f"{','.join(sorted(flags & {'lo', 'dd'})) or '-'} {path or '[anon]'}")
                    i = data.find(pat, i + 1)
    for name, c in counts.items():
        print(f"count {name} {c[0]} {c[1]} {c[2]} {c[3]}")


def locked(pid):
    vmlck = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmLck:"):
                vmlck = int(line.split()[1])
    total = 0
    unlocked = []
    for start, end, perms, path, flags, size in mappings(pid):
        if path in SPECIAL:
            continue
        total += size
        if "lo" not in flags:
            unlocked.append(f"unlocked {start:x}-{end:x} {perms} {path or '[anon]'}")
    print(f"vmlck {vmlck} {total}")
    print("\n".join(unlocked))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "scan":
        pats = {}
        for a in sys.argv[3:]:
            name, _, hexs = a.partition("=")
            pats[name] = bytes.fromhex(hexs)
            if len(pats[name]) < 16:
                sys.exit(f"memscan: {name}: a pattern of {len(pats[name])} bytes finds noise")
        scan(int(sys.argv[2]), pats)
    elif len(sys.argv) == 3 and sys.argv[1] == "locked":
        locked(int(sys.argv[2]))
    else:
        sys.exit(__doc__)


main()
