"""Prints the folder this Python imports pure modules from under an
installation prefix (argv[1]): where `meson install` puts the memscope
module.

Debian's python3 searches /usr/lib/python3/dist-packages for prefix /usr
(its deb_system scheme) and /usr/local/lib/python3.X/dist-packages for
/usr/local (posix_local, whose paths already hold the "local/"); any
other prefix, and other Pythons, use the standard posix_prefix layout
under it ({prefix}/lib/python3.X/site-packages), which then goes on
PYTHONPATH."""
import sys
import sysconfig

prefix = sys.argv[1].rstrip("/") or "/"
base, scheme = prefix, "posix_prefix"
if "deb_system" in sysconfig.get_scheme_names():
    if prefix == "/usr":
        scheme = "deb_system"
    elif prefix == "/usr/local":
        base, scheme = "/usr", "posix_local"
print(sysconfig.get_path("purelib", scheme, vars={"base": base, "platbase": base}))
