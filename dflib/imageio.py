"""Robust image decoding: whatever a data folder holds becomes an RGB uint8 array or a
clear reason why not; and the one way a figure is written as an image (:func:`save_figure`).

Real competition folders contain odd files: palette PNGs, RGBA, grayscale, CMYK JPEGs,
16-bit PNGs, rotated phone photos, truncated downloads and empty files. Decoding is the
one place that must never take an epoch down, so :func:`try_read_image` returns the
reason instead of raising, and callers record it in the data report.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"})


def is_image_file(path: str | os.PathLike) -> bool:
    """True for a known image extension, in any case (``.PNG`` and ``.Jpg`` count)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def to_rgb(image: Image.Image) -> np.ndarray:
    """Convert any PIL mode to an HxWx3 uint8 array, EXIF orientation applied.

    Transparent modes (RGBA, LA, P with transparency) drop their alpha: the pixels under
    it are kept, since the detector must see the generator's colours, not a backdrop.
    16-bit and 32-bit modes are scaled to 8 bits by their full range.
    """
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        array = np.asarray(image, dtype=np.float64)
        if image.mode.startswith("I;16") or array.max(initial=0) > 255:
            array = array / 257.0 if array.max(initial=0) <= 65535 else array / array.max() * 255
        gray = np.clip(np.rint(array), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8).copy()


def try_read_image(path: str | os.PathLike) -> tuple[np.ndarray | None, str]:
    """Decode one file; return ``(array, "")`` or ``(None, reason)`` without raising."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return None, "empty file"
        with Image.open(path) as image:
            image.load()
            return to_rgb(image), ""
    except FileNotFoundError:
        return None, "file not found"
    except UnidentifiedImageError:
        return None, "not a readable image"
    except (OSError, ValueError, SyntaxError) as error:
        return None, f"decode error: {error}"


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode one file to HxWx3 uint8 RGB, raising a clear ``ValueError`` if it can't."""
    array, reason = try_read_image(path)
    if array is None:
        raise ValueError(f"cannot read image {path}: {reason}")
    return array


def resize_square(array: np.ndarray, size: int) -> np.ndarray:
    """Resize HxWx3 uint8 to size x size with PIL bilinear (antialiased when shrinking),
    the same kernel ``torchvision.transforms.Resize`` uses on PIL images."""
    if array.shape[0] == size and array.shape[1] == size:
        return array
    resized = Image.fromarray(array).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def _header(path: str) -> dict:
    try:
        with Image.open(path) as image:
            return {"width": image.width, "height": image.height, "mode": image.mode, "format": image.format,
                    "bytes": os.path.getsize(path), "reason": ""}  # fmt: skip
    except (OSError, ValueError, SyntaxError) as error:
        return {"reason": f"not a readable image: {error}"}


def describe_images(paths) -> pd.DataFrame:
    """Size, PIL mode, format and file size of each image, from headers only (fast);
    ``reason`` is non-empty for files that cannot be opened."""
    paths = [str(p) for p in paths]
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(_header, paths))
    return pd.DataFrame(rows, index=pd.Index(paths, name="path"))


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write a matplotlib figure as PNG, creating the folder; without the writer's name and
    version in the file, so the same figure gives the same bytes (a committed figure re-made
    from the same runs shows no change). Takes the figure as it is: no matplotlib import
    here, so decoding images does not pay for one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path
