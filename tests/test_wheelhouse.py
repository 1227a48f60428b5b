"""``scripts/wheelhouse.py`` (``make wheelhouse``): which packages go into the folder of
wheels, and the check that no torch or nvidia wheel slipped in. No network here: pip's
resolution report is written by hand."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def wheelhouse(script):
    return script("wheelhouse")


def package(name: str, version: str, *requires: str) -> dict:
    return {"metadata": {"name": name, "version": version, "requires_dist": list(requires)}}


# what `pip install --dry-run --report` says for dflib on the target: torch and what only
# torch needs (nvidia, triton, sympy) come with it
REPORT = {"install": [
    package("dflib", "0.1.0", "torch>=2.4", "torchvision>=0.19", "numpy>=1.24", "kornia>=0.7",
            "scikit-image>=0.21", 'pytest>=7.4; extra == "dev"'),
    package("torch", "2.14.1", "filelock", "sympy>=1.13", "networkx", "triton==3.8.0",
            'nvidia-cudnn-cu13==9.24; platform_system == "Linux"'),
    package("torchvision", "0.29.1", "numpy", "torch==2.14.1", "pillow>=5.3"),
    package("numpy", "2.4.6"), package("sympy", "1.14.0", "mpmath<1.4"),
    package("mpmath", "1.3.0"), package("filelock", "4.3.2"), package("networkx", "3.6.1"),
    package("triton", "3.8.0"), package("nvidia-cudnn-cu13", "9.24.0.43"),
    package("pillow", "13.0.0"),
    package("kornia", "0.9.0", "kornia_rs>=0.1.9", "packaging", "torch>=2.0.0"),
    package("kornia-rs", "0.2.0"), package("packaging", "26.4"),
    package("scikit-image", "0.26.0", "numpy>=1.24", "networkx>=3.0", "imageio[tifffile]>=2.33",
            'typing-extensions; python_version < "3.12"'),
    package("imageio", "2.38.2", "numpy", 'tifffile; extra == "tifffile"'),
    package("tifffile", "2026.3.3", "numpy"), package("typing-extensions", "4.16.0"),
]}  # fmt: skip


def test_every_requirement_but_torch_and_torchvision_and_what_only_they_need(wheelhouse):
    found = wheelhouse.needed(REPORT, "dflib", "3.11")
    assert found == {
        "dflib": "0.1.0", "numpy": "2.4.6", "kornia": "0.9.0", "kornia-rs": "0.2.0",
        "packaging": "26.4", "scikit-image": "0.26.0", "networkx": "3.6.1",
        "imageio": "2.38.2", "tifffile": "2026.3.3", "typing-extensions": "4.16.0",
    }  # fmt: skip
    # networkx stays (scikit-image needs it too); sympy, triton, nvidia, pillow only come
    # through torch or torchvision, which the platforms ship with what they need


def test_markers_are_read_for_the_targets_python(wheelhouse):
    assert "typing-extensions" not in wheelhouse.needed(REPORT, "dflib", "3.12")


def test_a_package_the_resolution_lacks_stops_with_the_fix(wheelhouse):
    report = {"install": [item for item in REPORT["install"]
                          if item["metadata"]["name"] != "kornia-rs"]}  # fmt: skip
    with pytest.raises(SystemExit, match="needs kornia-rs.*run this script with Python 3.11"):
        wheelhouse.needed(report, "dflib", "3.11")


def test_the_check_finds_torch_and_nvidia_wheels(wheelhouse, tmp_path):
    for name in ("dflib-0.1.0-py3-none-any.whl", "numpy-2.4.6-cp311-cp311-manylinux_2_28_x86_64.whl",
                 "kornia-0.9.0-py3-none-any.whl"):  # fmt: skip
        (tmp_path / name).touch()
    assert wheelhouse.forbidden(tmp_path) == []
    slipped = ["nvidia_cublas-13.1.1.3-py3-none-manylinux_2_27_x86_64.whl",
               "torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl",
               "triton-3.8.0-cp311-cp311-manylinux_2_27_x86_64.whl"]  # fmt: skip
    for name in slipped:
        (tmp_path / name).touch()
    assert wheelhouse.forbidden(tmp_path) == slipped


def test_wheels_for_the_targets_python_and_glibc(wheelhouse):
    options = wheelhouse.target_options("3.12")
    assert options[options.index("--abi") + 1] == "cp312"
    assert options[options.index("--python-version") + 1] == "3.12"
    tags = wheelhouse.platforms((2, 35))
    assert tags[0] == "manylinux_2_35_x86_64" and "manylinux_2_17_x86_64" in tags
    assert "manylinux2014_x86_64" in tags and "manylinux_2_36_x86_64" not in tags
