# Sourced by the GPU-call scripts (bench/gpu.sh, scripts/gpu_campaign.sh) from the
# repository root: install the carried wheels the bare GPU machine lacks (.whl/, see the top
# of bench/gpu.sh), put this tree's dflib first on the path, record the machine in
# $OUT/environment.txt, and stop unless kornia imports and a CUDA GPU is there.
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # dflib from this tree, not installed there

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 -c "import torch, torchvision, kornia; print('torch', torch.__version__, \
'torchvision', torchvision.__version__, 'kornia', kornia.__version__, \
'cuda', torch.cuda.is_available())"
} 2>&1 | tee "$OUT/environment.txt"
if ! python3 -c "import kornia, torch; assert torch.cuda.is_available()" 2>/dev/null; then
    echo "needs kornia (carry .whl, see the top of bench/gpu.sh) and a CUDA GPU" | tee -a "$OUT/environment.txt"
    exit 1
fi
