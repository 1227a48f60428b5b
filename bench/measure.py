"""Timing and memory primitives shared by every benchmark table.

A timed loop runs a few warm-up iterations (cuDNN autotuning, allocator growth, the
first batches of DataLoader workers), then counts iterations until a time budget is
spent, synchronising the GPU before each clock read so queued kernels are counted.
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_steps(
    step: Callable[[], int],
    device: torch.device,
    seconds: float,
    warmup: int = 3,
    min_steps: int = 3,
) -> float:
    """Images per second of ``step`` (which returns the images it processed)."""
    for _ in range(warmup):
        step()
    sync(device)
    images, steps, start = 0, 0, time.perf_counter()
    while steps < min_steps or time.perf_counter() - start < seconds:
        images += step()
        steps += 1
        if steps % 8 == 0:
            sync(device)
    sync(device)
    return images / (time.perf_counter() - start)


def timed_iter(
    batches: Iterable,
    consume: Callable[[object], int],
    device: torch.device,
    warmup: int = 2,
    budget: float | None = None,
) -> tuple[float, int, float]:
    """Drain ``batches`` through ``consume`` (or stop once ``budget`` seconds are spent);
    returns (images/s after the warm-up batches, images timed, seconds timed)."""
    iterator: Iterator = iter(batches)
    for _ in range(warmup):
        consume(next(iterator))
    sync(device)
    images, start = 0, time.perf_counter()
    for batch in iterator:
        images += consume(batch)
        if budget is not None and time.perf_counter() - start > budget:
            break
    sync(device)
    seconds = time.perf_counter() - start
    del iterator  # a DataLoader's workers stop here, not at the next measurement
    return images / max(seconds, 1e-9), images, seconds


class Stopwatch:
    """``with Stopwatch() as w: ...`` then ``w.seconds``."""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (Linux), ``None`` elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory:
    """Peak resident memory of this process while the block runs, split in two.

    *anonymous* is what the process itself allocated (arrays, tensors, Python objects);
    *total* (``VmHWM``) also counts file pages mapped into it - for the memory-mapped
    image cache that is the kernel's page cache, which it drops under pressure, so it is
    not memory the process holds. Sampled every 20 ms (anonymous) plus the kernel's own
    high-water mark (total).
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.anon_kib = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.anon_kib = max(self.anon_kib, _status_kib("RssAnon") or 0)
            self._stop.wait(self.interval)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.anon_kib = max(self.anon_kib, _status_kib("RssAnon") or 0)

    @property
    def anon_mib(self) -> float:
        return self.anon_kib / 1024

    @staticmethod
    def total_mib() -> float:
        """Peak resident set of the process so far (``VmHWM``, else ``ru_maxrss``)."""
        hwm = _status_kib("VmHWM")
        return (
            hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ) / 1024
