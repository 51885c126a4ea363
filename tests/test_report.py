"""`genvision report`: the page links only PNGs that exist, every model gets its section and its family's
figures, text is escaped, and bad targets or options give a one-line error. Run folders here are untrained tiny
models saved like the trainer saves them (the report draws figures of any weights), so the test stays fast."""

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from genvision import pretrained
from genvision.cli import main
from genvision.data import load_dataset
from genvision.loading import load_dependencies
from genvision.models import get_entry, make_run_spec, run_config_dict
from genvision.report import build_report
from genvision.report.diffusion import stored_sweep
from genvision.report.page import Figure, Note, Section, format_value, render_page
from genvision.train.checkpoint import checkpoint_path, save_checkpoint


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVISION_CACHE", str(tmp_path / "cache"))  # never write into the package or ~


class _Page(HTMLParser):
    """Collects <img src> (by section), <section id> and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.sections: list[str] = []
        self.by_section: dict[str, list[str]] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
            self.by_section.setdefault(self.sections[-1] if self.sections else "", []).append(attrs["src"])
        if tag == "section":
            self.sections.append(attrs["id"])

    def handle_data(self, data):
        self.text.append(data)


def _parse(index: Path) -> _Page:
    page = _Page()
    page.feed(index.read_text(encoding="utf-8"))
    for src in page.images:
        path = index.parent / src
        assert path.is_file() and path.parent == index.parent, src  # beside index.html, relative link
        with Image.open(path) as img:
            assert img.format == "PNG"
            img.verify()
    return page


def _figures(page: _Page, section: str) -> set[str]:
    """The figure names (file NAME-FIGURE.png) shown in one section."""
    srcs = page.by_section.get(section, [])
    assert all(Path(src).stem.startswith(section + "-") for src in srcs)
    return {Path(src).stem[len(section) + 1:] for src in srcs}


def _fake_run(runs: Path, model: str, *, name: str | None = None, metrics: dict | None = None, **overrides) -> Path:
    """A run folder of an untrained tiny model: checkpoints/, config.json, metrics.jsonl [, eval.json]."""
    spec = make_run_spec(model, preset="tiny", overrides=overrides)
    data = load_dataset(spec.data.data, split="train")
    entry = get_entry(model)
    deps, dep_configs = load_dependencies(entry, spec.model_config)
    config = run_config_dict(spec, image_shape=data.image_shape, num_classes=data.num_classes, requires=dep_configs)
    net = entry.make(spec.model_config, data.image_shape, data.num_classes, data=spec.data, deps=deps)
    run = runs / (name or model)
    save_checkpoint(checkpoint_path(run, 2), step=2, config=config, model=net.state_dict())
    (run / "config.json").write_text(json.dumps(config))
    rows = [{"step": 1, "lr": 1e-3, "loss": 1.0}, {"step": 2, "lr": 1e-3, "loss": 0.5}, {"step": 2, "val/loss": 0.7}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if metrics is not None:
        (run / "eval.json").write_text(json.dumps({"target": str(run), **metrics}))
    return run


@pytest.mark.skipif(not pretrained.shipped(), reason="no pretrained model is shipped")
def test_report_of_shipped_models(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", f"--out={out}", "--n=2", "--steps=2"]) == 0
    index = out / "index.html"
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(index)
    page = _parse(index)
    assert page.sections == pretrained.shipped()
    for name in pretrained.shipped():
        assert "curve" in _figures(page, name)  # every shipped model records its training curve


def test_report_of_run_folders_has_each_familys_figures(tmp_path):
    runs = tmp_path / "runs"
    sweep = {"n": 20, "accuracy": 0.5, "frechet_distance": 9.0, "precision": 0.6, "recall": 0.7,
             "accuracy@w=1": 0.9, "frechet_distance@w=1": 12.0, "precision@w=1": 0.7, "recall@w=1": 0.5}
    vqvae = _fake_run(runs, "vqvae", metrics={"recon_psnr": 20.0, "code_perplexity": 3.5})
    targets = [_fake_run(runs, "ddpm"), _fake_run(runs, "cfg", name="<cfg&run>", metrics=sweep),
               _fake_run(runs, "noisy-classifier", metrics={"accuracy_by_t": {"0": 0.9, "25": 0.5, "49": 0.1}}),
               _fake_run(runs, "pixelcnn"), vqvae, _fake_run(runs, "vqvae-prior", vqvae=str(vqvae)),
               _fake_run(runs, "dvae-mixture"), _fake_run(runs, "dvae-tokens")]
    index = build_report([str(t) for t in targets], tmp_path / "out", n=2, steps=2)
    page = _parse(index)
    assert page.sections == ["ddpm", "cfg-run", "noisy-classifier", "pixelcnn", "vqvae", "vqvae-prior",
                             "dvae-mixture", "dvae-tokens"]
    expected = {
        "ddpm": {"samples", "curve", "filmstrip"},
        "cfg-run": {"samples", "curve", "cfg-grid", "cfg-tradeoff", "filmstrip"},
        "noisy-classifier": {"curve", "accuracy-by-t", "guided-grid"},
        "pixelcnn": {"samples", "curve", "completions", "receptive-field"},
        "vqvae": {"curve", "reconstructions", "patch-vq-mosaic", "rate-distortion"},
        "vqvae-prior": {"samples", "curve", "reconstructions"},
        "dvae-mixture": {"samples", "curve", "components"},
        "dvae-tokens": {"curve", "reconstructions"},
    }
    for section, figures in expected.items():
        assert _figures(page, section) == figures, section
    text = "".join(page.text)
    assert "<cfg&run>" in text  # escaped in the source, read back as text by the parser
    assert "<cfg&run>" not in index.read_text()
    assert "PSNR 20.00 dB" in text and "code perplexity 3.5" in text  # the run's eval.json, shown not re-measured


@pytest.mark.parametrize("argv, message", [
    (["pretrained:no-such-model"], "no pretrained model 'no-such-model'"),
    (["no/such/run"], "neither a checkpoint file nor a run folder"),
    (["--n=x"], "--n: expected int, got 'x'"),
    (["--n", "3"], "options are written --key=value"),
    (["--colour=red"], "unknown option --colour"),
])
def test_bad_target_or_option_is_one_line(capsys, tmp_path, argv, message):
    rc = main(["report", *argv, f"--out={tmp_path / 'r'}"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "r" / "index.html").exists()


def test_stored_sweep_rows_from_pretrained_metric_keys():
    metrics = {"n": 500, "accuracy": 0.9, "frechet_distance": 4.0, "precision": 0.8, "recall": 0.9,
               "accuracy@w=2": 1.0, "frechet_distance@w=2": 9.0, "precision@w=2": 0.85, "recall@w=2": 0.7,
               "accuracy@w=5": 1.0, "accuracy_per_class": [1.0] * 10}  # w=5 lacks the other three: dropped
    assert stored_sweep(metrics) == [
        {"guidance_weight": 0.0, "accuracy": 0.9, "frechet_distance": 4.0, "precision": 0.8, "recall": 0.9},
        {"guidance_weight": 2.0, "accuracy": 1.0, "frechet_distance": 9.0, "precision": 0.85, "recall": 0.7}]
    rows = [{"guidance_weight": 3.0, "accuracy": 1, "frechet_distance": 2, "precision": 3, "recall": 4},
            {"guidance_weight": 1.0, "accuracy": 1, "frechet_distance": 2, "precision": 3, "recall": 4}]
    assert [r["guidance_weight"] for r in stored_sweep({"sweep": rows})] == [1.0, 3.0]


def test_page_escapes_text_and_formats_metrics(tmp_path):
    assert format_value(0.123456) == "0.1235" and format_value(7) == "7"
    assert format_value([0.5, 1.0]) == "[0.5, 1]" and format_value({"0": 0.25}) == "0: 0.25"
    assert format_value(list(range(50))) is None and format_value([{"a": 1}]) is None
    section = Section(anchor="a\"b", title="<script>x</script>", description="a & b", facts=[("cmd", "x < y")],
                      items=[Figure(tmp_path / "a b.png", "w=1 <best>"), Note("n < 10")],
                      metrics={"fd": 1.5, "long": list(range(50))})
    html = render_page([section], tmp_path, title="t & t")
    assert "<script>" not in html and "&lt;script&gt;" in html and 'id="a&quot;b"' in html
    assert 'src="a b.png"' in html and "&lt;best&gt;" in html and "n &lt; 10" in html
    assert "<th>fd</th><td>1.5</td>" in html and "long" not in html
