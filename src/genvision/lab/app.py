"""The Gradio page: five tabs, one per lecture slide. Wiring only: every action calls a library function of
genvision.lab (guidance, completion, codes, mixture) and turns a GenvisionError into a message on the page."""

from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr
import torch

from genvision.errors import GenvisionError
from genvision.lab import codes as vq
from genvision.lab import completion, guidance, mixture
from genvision.lab.images import drawing_to_image, show_grid
from genvision.lab.models import LabModels, heldout_digits

DOCS = Path(__file__).resolve().parents[3] / "docs"  # present in a source checkout
HELDOUT = 200  # held-out digits offered by index
UNCONDITIONAL = "none (unconditional)"
CLASSES = [str(k) for k in range(10)]


def doc_link(name: str) -> str:
    """A link to docs/NAME served by this page when the docs are installed beside the code, else its path."""
    path = DOCS / name
    return f"[docs/{name}](/gradio_api/file={path})" if path.is_file() else f"docs/{name} in the repository"


def on_page(fn):
    """Show a GenvisionError as a message on the page (the server keeps serving) instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GenvisionError as err:
            raise gr.Error(str(err), print_exception=False) from None

    return wrapper


def _progress(progress: gr.Progress):
    return lambda fraction, what: progress(fraction, desc=what)


def _int(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise GenvisionError(f"{name} must be an integer, got {value!r}") from None


class Inputs:
    """Where an image comes from: a held-out validation digit by index, or the user's drawing."""

    def __init__(self) -> None:
        self.images, self.labels = heldout_digits(HELDOUT)

    def pick(self, source: str, index, drawing) -> torch.Tensor:
        if source == "my drawing":
            return drawing_to_image(drawing)
        i = _int(index, "the held-out index")
        if not 0 <= i < len(self.images):
            raise GenvisionError(f"held-out index must be in 0..{len(self.images) - 1}, got {i}")
        return self.images[i:i + 1]

    def widgets(self, prefix: str):
        with gr.Row():
            source = gr.Radio(["held-out digit", "my drawing"], value="held-out digit", label="image",
                              elem_id=f"{prefix}-source")
            index = gr.Slider(0, len(self.images) - 1, value=0, step=1, label="held-out digit #",
                              elem_id=f"{prefix}-index")
        drawing = gr.Sketchpad(label="draw a digit (then choose 'my drawing')", canvas_size=(280, 280),
                               type="numpy", image_mode="RGBA", elem_id=f"{prefix}-draw",
                               brush=gr.Brush(default_size=22, colors=["#000000"], color_mode="fixed"))
        return source, index, drawing


def cfg_tab(models: LabModels) -> None:
    gr.Markdown("**Classifier-free guidance.** One network learns p(x | y) and p(x) (labels dropped to a null "
                "label); sampling mixes their noise predictions, ε̃ = λ ε(x, y) + (1 − λ) ε(x): λ = 0 is "
                "unconditional, λ = 1 the label, λ > 1 (w = λ − 1 in the paper) pushes beyond it. "
                f"Derivation: {doc_link('guidance.md')} §3. Model: `{models.source('cfg')}`.")
    with gr.Row():
        label = gr.Dropdown(CLASSES, value="3", label="class y", elem_id="cfg-class")
        lam = gr.Slider(0, 7, value=3, step=0.25, label="λ (0 = unconditional, 1 = the label, 7 = w 6)",
                        elem_id="cfg-lambda")
        steps = gr.Slider(2, 50, value=10, step=1, label="DDIM steps", elem_id="cfg-steps")
        seed = gr.Number(0, precision=0, label="seed", elem_id="cfg-seed")
    conversion = gr.Markdown(guidance.describe_weight(3.0), elem_id="cfg-conversion")
    button = gr.Button("Generate", variant="primary", elem_id="cfg-run")
    grid = gr.Image(label="samples at λ", elem_id="cfg-grid", interactive=False)
    film = gr.Image(label="denoising filmstrip of sample 1: x_t (top) and predicted x_0 (bottom)",
                    elem_id="cfg-film", interactive=False)
    row = gr.Image(label="the same noise at λ = " + ", ".join(f"{v:g}" for v in guidance.ROW_LAMBDAS)
                   + " (CFG Fig. 1)", elem_id="cfg-row", interactive=False)

    @on_page
    def run(label, lam, steps, seed, progress=gr.Progress()):  # noqa: B008 (Gradio injects the tracker by this default)
        r = guidance.cfg_tab(models.get("cfg"), label=_int(label, "the class"), lam=float(lam),
                             steps=_int(steps, "steps"), seed=_int(seed, "seed"), progress=_progress(progress))
        return r.grid, r.filmstrip, r.lambda_row, r.text

    lam.change(lambda v: guidance.describe_weight(float(v)), lam, conversion, show_progress="hidden")
    button.click(run, [label, lam, steps, seed], [grid, film, row, conversion])


def classifier_tab(models: LabModels) -> None:
    gr.Markdown("**Classifier guidance.** An unconditional DDPM is steered by the gradient of a classifier "
                "trained on noisy images: ε̂ = ε(x_t) − s √(1 − ᾱ_t) ∇ log p(y | x_t), i.e. sampling "
                "p(x) p(y | x)^s. The plot shows the classifier's p(y | x_t) along the way. "
                f"Derivation: {doc_link('guidance.md')} §2. Models: `{models.source('ddpm')}` + "
                f"`{models.source('noisy-classifier')}`.")
    with gr.Row():
        label = gr.Dropdown(CLASSES, value="3", label="class y", elem_id="cg-class")
        scale = gr.Slider(0, 20, value=4, step=0.5, label="classifier scale s", elem_id="cg-scale")
        sampler = gr.Radio([("DDIM (Algorithm 2)", "ddim"), ("DDPM, all 1000 steps (slow)", "ddpm")],
                           value="ddim", label="sampler", elem_id="cg-sampler")
        steps = gr.Slider(2, 50, value=20, step=1, label="DDIM steps", elem_id="cg-steps")
        seed = gr.Number(0, precision=0, label="seed", elem_id="cg-seed")
    button = gr.Button("Generate", variant="primary", elem_id="cg-run")
    text = gr.Markdown(elem_id="cg-text")
    with gr.Row():
        grid = gr.Image(label="guided samples", elem_id="cg-grid", interactive=False)
        plot = gr.Image(label="p(y | x_t) over the steps", elem_id="cg-plot", interactive=False)

    @on_page
    def run(label, scale, sampler, steps, seed, progress=gr.Progress()):  # noqa: B008 (Gradio injects the tracker by this default)
        r = guidance.classifier_guidance_tab(
            models.get("ddpm"), models.get("noisy-classifier"), label=_int(label, "the class"), scale=float(scale),
            sampler=sampler, steps=_int(steps, "steps"), seed=_int(seed, "seed"), n=4, progress=_progress(progress))
        return r.grid, r.plot, r.text

    button.click(run, [label, scale, sampler, steps, seed], [grid, plot, text])


def pixelcnn_tab(models: LabModels, inputs: Inputs) -> None:
    gr.Markdown("**PixelCNN.** p(x) = ∏ p(x_i | x_<i): hide the lower rows, sample them pixel by pixel, rank "
                "the completions by their exact log-likelihood; the heat map shows each pixel's "
                f"−log2 p(x_i | x_<i). Derivation: {doc_link('pixelcnn.md')} §1, §6, §7. "
                f"Model: `{models.source('pixelcnn')}`.")
    source, index, drawing = inputs.widgets("pcnn")
    with gr.Row():
        rows = gr.Slider(0, 28, value=14, step=1, label="visible rows (the rest is hidden)", elem_id="pcnn-rows")
        n = gr.Slider(1, 16, value=8, step=1, label="completions N", elem_id="pcnn-n")
        label = gr.Dropdown([UNCONDITIONAL, *CLASSES], value=UNCONDITIONAL, label="class", elem_id="pcnn-class")
        seed = gr.Number(0, precision=0, label="seed", elem_id="pcnn-seed")
    button = gr.Button("Occlude and complete", variant="primary", elem_id="pcnn-run")
    text = gr.Markdown(elem_id="pcnn-text")
    done = gr.Image(label="completions, most likely first", elem_id="pcnn-completions", interactive=False)
    with gr.Row():
        occluded = gr.Image(label="occluded input", elem_id="pcnn-occluded", interactive=False)
        heat = gr.Image(label="bits per pixel of the input: −log2 p(x_i | x_<i)", elem_id="pcnn-heat",
                        interactive=False)

    @on_page
    def run(source, index, drawing, rows, n, label, seed):
        x = inputs.pick(source, index, drawing)
        r = completion.complete_ranked(models.get("pixelcnn"), x, rows=_int(rows, "rows"), n=_int(n, "N"),
                                       label=None if label == UNCONDITIONAL else _int(label, "the class"),
                                       seed=_int(seed, "seed"))
        return r.occluded, r.completions, r.heatmap, r.text

    button.click(run, [source, index, drawing, rows, n, label, seed], [occluded, done, heat, text])


def vqvae_tab(models: LabModels, inputs: Inputs) -> None:
    gr.Markdown("**VQ-VAE.** The encoder maps a digit to a 7x7 map of codebook indices; the decoder turns any "
                "such map back into an image. Click a cell to give it the chosen code and watch the decoding "
                "change; a PixelCNN prior over code maps makes new digits. Classic patch VQ (k-means over 4x4 "
                f"patches) for comparison. Derivation: {doc_link('vqvae.md')} §1-3. Models: "
                f"`{models.source('vqvae')}`, `{models.source('vqvae-prior')}`.")
    source, index, drawing = inputs.widgets("vq")
    encode_button = gr.Button("Encode", variant="primary", elem_id="vq-encode")
    state = gr.State(None)
    with gr.Row():
        original = gr.Image(label="input", elem_id="vq-input", interactive=False)
        code_map = gr.Image(label="7x7 code map (click a cell to set it to the code below)", elem_id="vq-codes",
                            interactive=False, height=340)
        decoded = gr.Image(label="decoded code map", elem_id="vq-decoded", interactive=False)
    with gr.Row():
        row = gr.Number(0, precision=0, label="row", elem_id="vq-row")
        col = gr.Number(0, precision=0, label="column", elem_id="vq-col")
        code = gr.Number(0, precision=0, label="new code", elem_id="vq-code")
        set_button = gr.Button("Set cell", elem_id="vq-set")
    with gr.Row():
        prior_label = gr.Dropdown(CLASSES, value="3", label="class", elem_id="vq-prior-class")
        prior_seed = gr.Number(0, precision=0, label="seed", elem_id="vq-prior-seed")
        prior_button = gr.Button("Sample the prior", elem_id="vq-prior-run")
    prior_grid = gr.Image(label="prior samples (code maps from the PixelCNN, decoded)", elem_id="vq-prior",
                          interactive=False)
    gr.Markdown("**Classic patch VQ** of the same image: a codebook of K 4x4 patches (k-means on 1000 "
                "training digits), the code map and the image rebuilt from it.")
    with gr.Row():
        k = gr.Slider(2, 256, value=64, step=1, label="K", elem_id="pvq-k")
        pvq_button = gr.Button("Fit and code", elem_id="pvq-run")
    pvq_text = gr.Markdown(elem_id="pvq-text")
    with gr.Row():
        book = gr.Image(label="codebook", elem_id="pvq-book", interactive=False)
        pvq_codes = gr.Image(label="code map", elem_id="pvq-codes", interactive=False, height=340)
        pvq_image = gr.Image(label="rebuilt", elem_id="pvq-image", interactive=False)
    books: dict[int, vq.PatchCodebook] = {}

    def show(codes, cell=None):
        view = vq.view_codes(models.get("vqvae"), codes, highlight=cell)
        return view.code_map, view.image, codes.tolist()

    @on_page
    def encode(source, index, drawing):
        x = inputs.pick(source, index, drawing)
        codes = vq.encode_image(models.get("vqvae"), x)
        return (show_grid(x, nrow=1), *show(codes))

    def edit(codes_list, r, c, new_code):
        if codes_list is None:
            raise GenvisionError("encode an image first")
        codes = torch.tensor(codes_list)
        r, c = _int(r, "row"), _int(c, "column")
        codes = vq.edit_code(codes, r, c, _int(new_code, "code"), models.get("vqvae").config.num_codes)
        return show(codes, (r, c))

    @on_page
    def set_cell(codes_list, r, c, new_code):
        return edit(codes_list, r, c, new_code)

    @on_page
    def click_cell(codes_list, new_code, evt: gr.SelectData):
        if codes_list is None:
            raise GenvisionError("encode an image first")
        r, c = vq.cell_at(*evt.index[:2], (len(codes_list), len(codes_list[0])))
        return (*edit(codes_list, r, c, new_code), r, c)

    @on_page
    def prior(label, seed):
        return vq.prior_samples(models.get("vqvae-prior"), label=_int(label, "the class"), seed=_int(seed, "seed"))

    @on_page
    def patch_vq(source, index, drawing, k):
        x = inputs.pick(source, index, drawing)
        k = _int(k, "K")
        if k not in books:
            books[k] = vq.fit_patch_vq(train_digits(), k=k)
        view = vq.view_patch_vq(books[k], x)
        return view.codebook, view.code_map, view.image, view.text

    encode_button.click(encode, [source, index, drawing], [original, code_map, decoded, state])
    set_button.click(set_cell, [state, row, col, code], [code_map, decoded, state])
    code_map.select(click_cell, [state, code], [code_map, decoded, state, row, col])
    prior_button.click(prior, [prior_label, prior_seed], prior_grid)
    pvq_button.click(patch_vq, [source, index, drawing, k], [book, pvq_codes, pvq_image, pvq_text])


@functools.cache
def train_digits(n: int = 1000) -> torch.Tensor:
    from genvision.data import load_dataset

    return load_dataset("mnist5k", split="train").float_images(slice(0, n))


def dvae_tab(models: LabModels, inputs: Inputs) -> None:
    gr.Markdown("**Discrete VAE.** A one-hot latent k ~ p(k) picks one of K components, x ~ p(x | k); the "
                "encoder's q(k | x) says which component explains a digit (an unsupervised clustering). "
                f"Derivation: {doc_link('dvae.md')} §1-3. Model: `{models.source('dvae-mixture')}`.")
    with gr.Row():
        per_row = gr.Slider(1, 16, value=8, step=1, label="samples per component", elem_id="dvae-per-row")
        seed = gr.Number(0, precision=0, label="seed", elem_id="dvae-seed")
        mean = gr.Checkbox(True, label="show Bernoulli means", elem_id="dvae-mean")
        rows_button = gr.Button("Show the components", variant="primary", elem_id="dvae-rows-run")
    rows_text = gr.Markdown(elem_id="dvae-rows-text")
    rows = gr.Image(label="one row per component k (Rolfe Fig. 5)", elem_id="dvae-rows", interactive=False)
    source, index, drawing = inputs.widgets("dvae")
    post_button = gr.Button("Posterior q(k | x)", elem_id="dvae-post-run")
    post_text = gr.Markdown(elem_id="dvae-post-text")
    with gr.Row():
        shown = gr.Image(label="input", elem_id="dvae-input", interactive=False)
        bars = gr.Image(label="q(k | x)", elem_id="dvae-bars", interactive=False)

    @on_page
    def components(per_row, seed, mean):
        r = mixture.component_rows(models.get("dvae-mixture"), per_row=_int(per_row, "samples per component"),
                                   seed=_int(seed, "seed"), mean=bool(mean))
        return r.grid, r.text

    @on_page
    def posterior(source, index, drawing):
        x = inputs.pick(source, index, drawing)
        r = mixture.posterior_bars(models.get("dvae-mixture"), x)
        return show_grid(x, nrow=1), r.bars, r.text

    rows_button.click(components, [per_row, seed, mean], [rows, rows_text])
    post_button.click(posterior, [source, index, drawing], [shown, bars, post_text])


def build_app(models: LabModels) -> gr.Blocks:
    """The page: one tab per lecture slide, on `models`."""
    inputs = Inputs()
    with gr.Blocks(title="genvision lab", analytics_enabled=False) as app:
        gr.Markdown("# genvision lab\nThe lecture's generative models on the shipped weights, on this machine.")
        with gr.Tab("1 · Classifier-free guidance", elem_id="tab-cfg"):
            cfg_tab(models)
        with gr.Tab("2 · Classifier guidance", elem_id="tab-cg"):
            classifier_tab(models)
        with gr.Tab("3 · PixelCNN", elem_id="tab-pixelcnn"):
            pixelcnn_tab(models, inputs)
        with gr.Tab("4 · VQ-VAE", elem_id="tab-vqvae"):
            vqvae_tab(models, inputs)
        with gr.Tab("5 · Discrete VAE", elem_id="tab-dvae"):
            dvae_tab(models, inputs)
    return app
