"""Shared helpers for the baseline scripts: JSON-lines output and run metadata."""
import json
import os
import platform
import sys
import time

_OUT = None


def setup_output(path):
    """Appends JSON lines to `path` (in addition to stdout) when path is given."""
    global _OUT
    if path:
        _OUT = open(path, "a", buffering=1)


def metadata():
    """Facts recorded once per suite: versions, cores, BLAS core type."""
    meta = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "cpu_count": os.cpu_count(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
    }
    for mod in ("numpy", "dask", "distributed", "h5py"):
        try:
            meta[mod] = __import__(mod).__version__
        except Exception:  # pragma: no cover - optional module
            meta[mod] = None
    meta.update(openblas_runtime())
    return meta


def openblas_runtime():
    """Core type and thread count reported by the OpenBLAS that numpy loaded (if any)."""
    info = {}
    try:
        import ctypes
        import numpy  # noqa: F401 - loads the BLAS library
        with open("/proc/self/maps") as maps:
            libs = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()
                           and line.split()[-1].startswith("/")})
        for lib in libs:
            try:
                h = ctypes.CDLL(lib)
                h.openblas_get_corename.restype = ctypes.c_char_p
                info["openblas_library"] = lib
                info["openblas_corename"] = h.openblas_get_corename().decode()
                info["openblas_num_threads"] = h.openblas_get_num_threads()
                break
            except (OSError, AttributeError):
                continue
    except Exception as exc:  # pragma: no cover - diagnostics only
        info["openblas_error"] = repr(exc)
    return info


def _round(v):
    return float(f"{v:.6g}") if isinstance(v, float) else v


def emit(suite, name, value, unit, **extra):
    """Writes one measurement as a JSON object on its own line."""
    rec = {"suite": suite, "name": name, "value": _round(value), "unit": unit}
    rec.update({k: _round(v) for k, v in extra.items()})
    rec["load1"] = round(os.getloadavg()[0], 2)  # other work on the machine skews numbers
    line = json.dumps(rec, sort_keys=False)
    print(line, flush=True)
    if _OUT is not None:
        _OUT.write(line + "\n")


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class Timer:
    """Context manager measuring wall time in seconds (perf_counter)."""

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.s = time.perf_counter() - self.t0
        return False
