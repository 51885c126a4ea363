"""`genvision compress MODEL IN... --out FILE.gv` and `genvision decompress FILE.gv --out DIR|FILE.npz`."""

from __future__ import annotations

import time

from genvision.errors import GenvisionError
from genvision.outputs import check_output_dir, check_output_file, output_kind

COMPRESS_USAGE = ("usage: genvision compress MODEL|patch-vq IN.npz|PNG|DIR ... --out FILE.gv [--prior=learned|uniform] "
                  "[--binarize] [--ignore-labels] [--batch=256] [--k=64 --patch=4 --iters=10 --seed=0]")
DECOMPRESS_USAGE = "usage: genvision decompress FILE.gv --out DIR|FILE.npz [--model=RUN|pretrained:NAME]"
FLAGS = ("--binarize", "--ignore-labels")


def _split(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """Positional arguments up to the first option; bare flags become --flag=1."""
    from genvision.config import parse_key_values

    cut = next((i for i, a in enumerate(args) if a.startswith("--")), len(args))
    options = [f"{a}=1" if a in FLAGS else a for a in args[cut:]]
    return args[:cut], parse_key_values(options)


def _int(opts: dict[str, str], key: str, default: int) -> int:
    value = opts.pop(key, str(default))
    try:
        return int(value)
    except ValueError:
        raise GenvisionError(f"--{key.replace('_', '-')} must be an integer, got {value!r}") from None


def cmd_compress(args: list[str]) -> int:
    from genvision.compress import CompressOptions, compress, write
    from genvision.compress.files import read_images

    positional, opts = _split(args)
    out = opts.pop("out", None)
    if len(positional) < 2 or out is None:
        raise GenvisionError(COMPRESS_USAGE)
    options = CompressOptions(prior=opts.pop("prior", "learned"), binarize="binarize" in opts,
                              batch=_int(opts, "batch", 256), k=_int(opts, "k", 64), patch=_int(opts, "patch", 4),
                              iters=_int(opts, "iters", 10), seed=_int(opts, "seed", 0))
    opts.pop("binarize", None)
    ignore_labels = opts.pop("ignore_labels", None) is not None
    if opts:
        raise GenvisionError(f"unknown options: {', '.join('--' + k for k in opts)}; {COMPRESS_USAGE}")
    check_output_file(out, suffixes=(".gv",))
    target, sources = positional[0], positional[1:]
    data = read_images(sources)
    t0 = time.time()
    container = compress(target, data.images, labels=None if ignore_labels else data.labels, names=data.names,
                         options=options)
    size = write(out, container)
    n, raw = len(data.images), data.images.nbytes
    payload_bits = 8 * len(container.payload)
    print(f"{n} images {'x'.join(map(str, data.images.shape[1:]))} -> {out}: {size} bytes "
          f"({payload_bits / n:.1f} bits/image coded + {size - len(container.payload)} bytes header and checksum; "
          f"raw {raw} bytes, {raw / size:.1f}x) in {time.time() - t0:.1f}s")
    if container.header.get("binarized"):
        print("note: the images were binarised at 128 (the model is binary); decompress returns the binary images")
    return 0


def cmd_decompress(args: list[str]) -> int:
    from genvision.compress import decompress, read
    from genvision.compress.files import ImageSet, write_images

    positional, opts = _split(args)
    out, model = opts.pop("out", None), opts.pop("model", None)
    if len(positional) != 1 or out is None:
        raise GenvisionError(DECOMPRESS_USAGE)
    if opts:
        raise GenvisionError(f"unknown options: {', '.join('--' + k for k in opts)}; {DECOMPRESS_USAGE}")
    if output_kind(out) == ".npz":
        check_output_file(out, suffixes=(".npz",))
    else:
        check_output_dir(out)
    t0 = time.time()
    result = decompress(read(positional[0]), model_path=model)
    path = write_images(ImageSet(result.images, result.labels, result.names), out)
    print(f"{len(result.images)} images -> {path} in {time.time() - t0:.1f}s")
    return 0
