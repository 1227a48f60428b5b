"""Measure every registered model and write ``reports/models.md``.

Per model: parameters, float32 size, FLOPs at 196 px (``torch.utils.flop_counter``),
FLOPs relative to ResNet-50, activation memory saved for backward, and CPU inference /
training throughput at 196 px, all measured in one run (on a CUDA GPU too when one is
present). Then it checks the claims of docs/writeups.md#xceptionresnet50 against the numbers.

Usage::

    python scripts/model_report.py                       # defaults below
    python scripts/model_report.py --seconds 1 --out /tmp/models.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torchvision
from torch.nn import functional as F

from dflib.environment import cpu_name
from dflib.models import count_params, create_model, list_models, model_cfg
from dflib.models.cost import flops
from dflib.runtime import autocast_dtype, seed_everything

MIB = 2**20


def saved_activation_bytes(model: torch.nn.Module, size: int) -> int:
    """Bytes autograd keeps for backward (weights excluded) for one image, float32."""
    model.train()
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.rand(1, 3, size, size))
    return sum(seen.values())


def _loss(out: torch.Tensor) -> torch.Tensor:
    target = torch.arange(out.shape[0], device=out.device) % 2
    if out.shape[1] == 1:
        return F.binary_cross_entropy_with_logits(out[:, 0].float(), target.float())
    return F.cross_entropy(out.float(), target)


def throughput(
    model: torch.nn.Module, device: torch.device, size: int, batch: int, seconds: float, train: bool
) -> float:
    """Images per second: eval forward, or forward + backward + AdamW step."""
    model = model.to(device).to(memory_format=torch.channels_last)
    model.train(train)
    x = torch.rand(batch, 3, size, size, device=device).contiguous(
        memory_format=torch.channels_last
    )
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4) if train else None
    dtype = autocast_dtype(device)

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            if not train:
                with torch.no_grad():
                    model(x)
                return
            loss = _loss(model(x))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    step()  # warm-up: allocator, kernels, optimiser state
    sync()
    n, start = 0, time.perf_counter()
    while n < 2 or time.perf_counter() - start < seconds:
        step()
        n += 1
    sync()
    return n * batch / (time.perf_counter() - start)


def measure(args: argparse.Namespace) -> list[dict]:
    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(torch.device("cuda"))
    rows = []
    for name in list_models():
        seed_everything(42)
        model = create_model(name)
        row = {
            "name": name,
            "params": count_params(model),
            "flops": flops(model, args.size),
            "act_bytes": saved_activation_bytes(model, args.size),
        }
        for dev in devices:
            batch = args.batch if dev.type == "cpu" else args.gpu_batch
            for train in (False, True):
                key = f"{dev.type}_{'train' if train else 'infer'}"
                row[key] = throughput(model, dev, args.size, batch, args.seconds, train)
                print(f"  {name}: {key} {row[key]:.1f} img/s", flush=True)
        model.cpu()
        rows.append(row)
    return rows


def render(rows: list[dict], args: argparse.Namespace, command: str, elapsed: float) -> str:
    by_name = {r["name"]: r for r in rows}
    ref = by_name["resnet50"]
    has_gpu = "cuda_infer" in ref
    columns = ["model", "params", "fp32 MB", f"GFLOPs @{args.size}", "vs ResNet-50"]
    columns += ["act. MB/img", "CPU infer img/s", "CPU train img/s"]
    if has_gpu:
        columns += ["GPU infer img/s", "GPU train img/s"]
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    for r in sorted(rows, key=lambda r: r["params"], reverse=True):
        cells = [
            f"`{r['name']}`",
            f"{r['params']:,}",
            f"{r['params'] * 4 / MIB:.2f}",
            f"{r['flops'] / 1e9:.2f}",
            f"{r['flops'] / ref['flops']:.0%}",
            f"{r['act_bytes'] / MIB:.1f}",
            f"{r['cpu_infer']:.1f}",
            f"{r['cpu_train']:.1f}",
        ]
        if has_gpu:
            cells += [f"{r['cuda_infer']:.0f}", f"{r['cuda_train']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)

    xr = by_name["xception_resnet50"]
    mb, ref_mb = xr["params"] * 4 / MIB, ref["params"] * 4 / MIB
    imagenet_r50 = count_params(torchvision.models.resnet50(weights=None)) * 4 / MIB
    flop_ratio = xr["flops"] / ref["flops"]
    act, ref_act = xr["act_bytes"] / MIB, ref["act_bytes"] / MIB
    claims = [
        f"- **52.18 MB** (float32 weights of XceptionResNet50): measured {mb:.2f} MB "
        f"(MiB of 4-byte floats, {xr['params']:,} parameters). "
        + ("**Holds.**" if round(mb, 2) == 52.18 else "**Does not hold.**"),
        f"- **About 65% of ResNet-50's FLOPs**: measured {flop_ratio:.1%} "
        f"({xr['flops'] / 1e9:.2f} vs {ref['flops'] / 1e9:.2f} GFLOPs at {args.size} px, "
        "convolutions and matrix products as FlopCounterMode counts them). "
        + (
            "**Holds.**"
            if abs(flop_ratio - 0.65) <= 0.05
            else "**Does not hold as stated**: it is cheaper than claimed."
            if flop_ratio < 0.65
            else "**Does not hold as stated**: it is more expensive than claimed."
        ),
        f"- **47 MB vs 98 MB memory** (a {47 / 98:.0%} ratio; the write-up does not say which "
        f"memory): no measurement here gives 47 MB. Weights: {mb:.2f} vs {ref_mb:.2f} MB "
        f"for the 2-output ResNet-50 ({mb / ref_mb:.0%}); 98 MB matches the weights of the "
        f"1000-class ImageNet ResNet-50 ({imagenet_r50:.2f} MB), not the 2-output baseline. "
        f"Activations saved for backward: {act:.1f} vs {ref_act:.1f} MB per {args.size} px "
        f"image ({act / ref_act:.0%}, i.e. {'more' if act > ref_act else 'less'} than "
        f"ResNet-50). **Does not hold as stated**: XceptionResNet50 needs about "
        f"{mb / ref_mb:.0%} of the baseline's weight memory, not {47 / 98:.0%}"
        + (
            ", and more activation memory for training, not less."
            if act > ref_act
            else f", and {act / ref_act:.0%} of its activation memory."
        ),
        f"- Not a write-up claim, for context: on this CPU XceptionResNet50 runs inference at "
        f"{xr['cpu_infer'] / ref['cpu_infer']:.2f}x and training at "
        f"{xr['cpu_train'] / ref['cpu_train']:.2f}x ResNet-50's images/s, although it needs "
        f"{flop_ratio:.0%} of the FLOPs: depthwise convolutions do little arithmetic per byte "
        "moved, so fewer FLOPs buy less time than they suggest.",
    ]

    if has_gpu:
        gpu_line = (
            f"- GPU: {torch.cuda.get_device_name(0)}, batch {args.gpu_batch}, channels_last, "
            "autocast (bf16 on Ampere+, fp16 before)."
        )
    else:
        gpu_line = "- GPU: none present in this run, so the GPU columns are omitted."
    sources = [f"- `{n}`: {model_cfg(n).source}" for n in sorted(by_name)]
    return "\n".join(
        [
            "# Model zoo: size, cost and speed",
            "",
            "Made by:",
            "",
            "```bash",
            command,
            "```",
            "",
            f"- Date (UTC): {datetime.now(timezone.utc):%Y-%m-%d %H:%M}; run took {elapsed:.0f} s.",
            f"- torch {torch.__version__}, torchvision {torchvision.__version__}, "
            f"Python {platform.python_version()}.",
            f"- CPU: {cpu_name()}, {os.cpu_count()} logical cores, torch threads "
            f"{torch.get_num_threads()}, load average at the end {os.getloadavg()[0]:.1f} "
            "(other jobs share this machine: treat CPU speeds as rough).",
            gpu_line,
            "",
            "## Columns",
            "",
            "- **params**: all parameters, with the recipe's head (2 logits or 1).",
            "- **fp32 MB**: params x 4 bytes / 2^20.",
            f"- **GFLOPs @{args.size}**: one {args.size}x{args.size} image, "
            "`torch.utils.flop_counter.FlopCounterMode` (a multiply-add is 2 FLOPs; "
            "convolutions, linear layers and attention matmuls; BatchNorm, activations, "
            "pooling and the FFTs are not counted).",
            "- **vs ResNet-50**: those FLOPs over `resnet50`'s.",
            f"- **act. MB/img**: tensors autograd saves for backward for one {args.size} px "
            "image in float32, weights excluded (training memory beyond the weights).",
            f"- **CPU infer / train img/s**: {args.size} px, channels_last, eval forward "
            f"with batch {args.batch}, and forward + backward + AdamW step with batch "
            f"{args.batch}; about {args.seconds:g} s of timing each after one warm-up step.",
            "",
            "## Results",
            "",
            table,
            "",
            "## Write-up 1's claims for XceptionResNet50 (docs/writeups.md#xceptionresnet50)",
            "",
            *claims,
            "",
            "## Where each model comes from",
            "",
            *sources,
            "",
        ]
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=196, help="image side in px (recipe: 196)")
    p.add_argument("--batch", type=int, default=4, help="CPU batch size for timing")
    p.add_argument("--gpu-batch", type=int, default=32, help="GPU batch size for timing")
    p.add_argument("--seconds", type=float, default=2.0, help="timing per model and mode")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--cpu-only", action="store_true", help="skip the GPU even if present")
    p.add_argument("--out", default="reports/models.md", help="markdown file to write")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    argv = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "scripts/model_report.py", *argv])
    start = time.perf_counter()
    rows = measure(args)
    report = render(rows, args, command, time.perf_counter() - start)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
