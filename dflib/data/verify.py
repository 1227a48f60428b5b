"""Looking inside every file: a name and a signature are not an image.

Listing a folder only sees names, sizes and extensions, so a file with a PNG signature
and garbage after it, or a download cut short, passes for an image until something
decodes it. :func:`verify_images` decodes every file (in parallel, with a progress bar),
records each failure in the table's report with its reason, and returns the table of
the files that decode.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from tqdm.auto import tqdm

from dflib.data.tables import ImageTable
from dflib.environment import num_workers
from dflib.imageio import try_read_image

CHUNK = 64


def _decode_reasons(paths: list[str]) -> list[str]:
    return [try_read_image(path)[1] for path in paths]


def verify_images(
    table: ImageTable, workers: int | None = None, progress: bool = True
) -> ImageTable:
    """Decode every image of ``table``; the undecodable ones move to its report.

    Args:
        table: images found by :func:`dflib.data.load_split`.
        workers: processes (default: all cores).
        progress: show a progress bar.

    Returns:
        The same table without the files that do not decode (the report names each,
        with its reason: empty, truncated, not an image, ...).
    """
    paths = [str(p) for p in table.frame["path"]]
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    reasons: list[str] = []
    bar = tqdm(total=len(paths), desc=f"decoding {table.split}", unit="img", disable=not progress)
    workers = num_workers(workers)
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for chunk in pool.map(_decode_reasons, chunks):
                reasons += chunk
                bar.update(len(chunk))
    else:
        for chunk in chunks:
            reasons += _decode_reasons(chunk)
            bar.update(len(chunk))
    bar.close()
    for path, reason in zip(paths, reasons, strict=True):
        if reason:
            table.report.add(path, reason)
    keep = [not reason for reason in reasons]
    frame = table.frame.loc[keep].reset_index(drop=True)
    return ImageTable(frame, table.root, table.split, table.report)
