#!/usr/bin/env python3
"""`meson install` puts the memscope module where its Python imports it.

Installs the build's Python module (install tag python-runtime) into a
temporary DESTDIR, then checks that every file of app/python/memscope is
there under the module folder the build chose, that this Python (the one
the build installs for) imports the installed copy and reads a committed
recording with it, and — for the prefixes a system Python searches (/usr,
/usr/local) — that the folder, without DESTDIR, is on its sys.path, so the
installed module imports with no PYTHONPATH.

usage: install.py MESON BUILD_DIR MODULE_DIR PREFIX SOURCE_MODULE_DIR RECORDING
"""
import os
import shutil
import subprocess
import sys
import tempfile

meson, build_dir, module_dir, prefix, source_dir, recording = sys.argv[1:7]

with tempfile.TemporaryDirectory() as destdir:
    subprocess.run([meson, "install", "-C", build_dir, "--no-rebuild", "--quiet", "--destdir", destdir,
                    "--tags", "python-runtime"], check=True)
    installed = destdir + module_dir
    want = sorted(f for f in os.listdir(source_dir) if f.endswith(".py"))
    got = sorted(os.listdir(os.path.join(installed, "memscope")))
    assert got == want, f"installed {got}, the module has {want}"
    probe = ("import sys, memscope\n"
             "assert memscope.__file__.startswith(sys.argv[1]), memscope.__file__\n"
             "with memscope.open(sys.argv[2]) as rec:\n"
             "    runs = rec.runs()\n"
             "    assert runs and runs[0].segments_done > 0, runs\n"
             "    print(len(runs), 'runs,', runs[0].segments_done, 'segments in the first')\n")
    env = dict(os.environ, PYTHONPATH=installed)
    copy = shutil.copy(recording, destdir)   # the committed file stays as it is
    out = subprocess.run([sys.executable, "-c", probe, installed, copy], env=env, check=True,
                         capture_output=True, text=True).stdout
    print(f"installed under {module_dir}: {', '.join(got)}; imported from DESTDIR: {out.strip()}")

if prefix.rstrip("/") in ("/usr", "/usr/local"):
    assert module_dir in sys.path, f"{module_dir} is not on {sys.executable}'s sys.path {sys.path}"
    print(f"{module_dir} is on {sys.executable}'s sys.path")
else:
    print(f"prefix {prefix}: the module folder goes on PYTHONPATH")
