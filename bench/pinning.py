"""CPU pinning: the server on one core, the load generator on another.

`python -m bench.pinning CORE PROGRAM ARGS...` pins itself to CORE and then execs PROGRAM,
so every thread the program starts inherits the pinning from its first instruction.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

# the cores this process may use when it starts, before it pins itself to one of them
ALLOWED = sorted(os.sched_getaffinity(0))


def server_core() -> int | None:
    """The core for servers, None when there are not two cores to split."""
    return ALLOWED[0] if len(ALLOWED) >= 2 else None


def pin_load_generator() -> str:
    """Pin this process to the last allowed core (asyncio runs on one thread anyway)."""
    allowed = ALLOWED
    if len(allowed) < 2:
        return f"nothing pinned (only CPU {allowed} allowed)"
    os.sched_setaffinity(0, {allowed[-1]})
    return f"load generator pinned to CPU {allowed[-1]}, servers to CPU {allowed[0]}"


def pinned(argv: list[str], core: int | None) -> list[str]:
    """The command line that runs argv pinned to core (argv itself when core is None)."""
    if core is None:
        return argv
    return [sys.executable, "-m", "bench.pinning", str(core), *argv]


PR_SET_PDEATHSIG = 1


def main() -> None:
    core, program = int(sys.argv[1]), sys.argv[2:]
    os.sched_setaffinity(0, {core})
    # a server must not outlive a bench killed before it could stop it (Linux only)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    os.execvp(program[0], program)


if __name__ == "__main__":
    main()
